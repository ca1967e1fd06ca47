/**
 * A small SQL lexer: just enough to find statement boundaries in a migration file, for error
 * reports (which statement failed, on which line) and for spotting transaction control that would
 * break the runner's one-transaction-per-file guarantee. The file itself is always sent to the
 * server whole; a mistake here can make a report less precise, never change what gets applied.
 *
 * It understands: '-- line' and nested block comments, 'strings' (with '' and E'\' escapes),
 * "identifiers", $tag$dollar quotes$tag$, parentheses (a rule's `(a; b)` action list), and the
 * SQL-standard function body `begin atomic ... end` (whose inner semicolons do not end the
 * `create function`).
 */

/** One top-level statement of a SQL text. */
export interface SqlStatement {
  /** The statement without leading comments or whitespace and without its closing `;`. */
  readonly text: string;
  /** String index (UTF-16) of the statement's first significant character. */
  readonly start: number;
  /** String index just past the statement's last character (where its `;` is, if it has one). */
  readonly end: number;
  /** 1-based line of `start`. */
  readonly line: number;
  /** The first few words, lower-cased: `["create", "or", "replace", "function"]`. */
  readonly words: readonly string[];
}

const WORD_START = /[A-Za-z_\u0080-\uffff]/;
const WORD_CHAR = /[A-Za-z0-9_$\u0080-\uffff]/;
const DOLLAR_TAG = /^\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/;
const WORDS_KEPT = 4;

/**
 * Splits SQL text into its top-level statements.
 *
 * ### Examples
 * ```ts
 * splitSqlStatements("create table a (id int);\n-- note\ninsert into a values (1);").map((s) => s.line);
 * // [1, 3]
 * ```
 */
export function splitSqlStatements(sql: string): SqlStatement[] {
  const statements: SqlStatement[] = [];
  let start = -1;
  let words: string[] = [];
  let parens = 0;
  let blocks = 0; // begin atomic / case nesting inside a routine body

  const finish = (end: number) => {
    if (start >= 0) {
      const text = sql.slice(start, end).trimEnd();
      statements.push({ text, start, end: start + text.length, line: lineAt(sql, start), words });
    }
    start = -1;
    words = [];
    parens = 0;
    blocks = 0;
  };
  const mark = (at: number) => {
    if (start < 0) start = at;
  };

  let i = 0;
  while (i < sql.length) {
    const char = sql[i] as string;
    const next = sql[i + 1];
    if (/\s/.test(char)) {
      i += 1;
    } else if (char === "-" && next === "-") {
      const newline = sql.indexOf("\n", i);
      i = newline < 0 ? sql.length : newline + 1;
    } else if (char === "/" && next === "*") {
      i = skipBlockComment(sql, i);
    } else if (char === "'") {
      mark(i);
      const escapes = i > 0 && /[eE]/.test(sql[i - 1] as string) && !WORD_CHAR.test(sql[i - 2] ?? " ");
      i = skipQuoted(sql, i, "'", escapes);
    } else if (char === '"') {
      mark(i);
      i = skipQuoted(sql, i, '"', false);
    } else if (char === "$" && !WORD_CHAR.test(sql[i - 1] ?? " ") && DOLLAR_TAG.test(sql.slice(i, i + 64))) {
      mark(i);
      const tag = (DOLLAR_TAG.exec(sql.slice(i, i + 64)) as RegExpExecArray)[0];
      const close = sql.indexOf(tag, i + tag.length);
      i = close < 0 ? sql.length : close + tag.length;
    } else if (WORD_START.test(char)) {
      mark(i);
      let j = i + 1;
      while (j < sql.length && WORD_CHAR.test(sql[j] as string)) j += 1;
      const word = sql.slice(i, j).toLowerCase();
      if (words.length < WORDS_KEPT) words.push(word);
      if (isRoutine(words)) {
        if (word === "begin" || (word === "case" && blocks > 0)) blocks += 1;
        else if (word === "end" && blocks > 0) blocks -= 1;
      }
      i = j;
    } else if (char === ";" && parens === 0 && blocks === 0) {
      finish(i);
      i += 1;
    } else {
      mark(i);
      if (char === "(") parens += 1;
      else if (char === ")" && parens > 0) parens -= 1;
      i += 1;
    }
  }
  finish(sql.length);
  return statements;
}

/**
 * The statement that contains a string index (its closing `;` included), or the first one after
 * it when the index falls between statements; the last one past the end ("at end of input").
 */
export function statementAt(statements: readonly SqlStatement[], index: number): SqlStatement | undefined {
  return statements.find((statement) => index <= statement.end) ?? statements.at(-1);
}

/**
 * A statement that would end or open a transaction (`begin`, `commit`, `rollback`, `end`, ...),
 * which would commit part of a file and release the migration lock early; `undefined` if none.
 * Savepoints are fine: they stay inside the runner's transaction.
 */
export function findTransactionControl(statements: readonly SqlStatement[]): SqlStatement | undefined {
  return statements.find(({ words }) => {
    const [first, second] = words;
    switch (first) {
      case "begin":
      case "commit":
      case "end":
      case "abort":
        return true;
      case "start":
        return second === "transaction";
      case "rollback":
        return second !== "to";
      case "prepare":
        return second === "transaction";
      default:
        return false;
    }
  });
}

/** 1-based line number of a string index. */
export function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = text.indexOf("\n"); i >= 0 && i < index; i = text.indexOf("\n", i + 1)) line += 1;
  return line;
}

/**
 * Converts PostgreSQL's error `position` (1-based, counted in characters) to a string index
 * (UTF-16 code units, which differ from characters outside the Basic Multilingual Plane).
 */
export function indexOfPosition(text: string, position: number): number {
  let index = 0;
  for (let characters = 1; characters < position && index < text.length; characters += 1) {
    const code = text.codePointAt(index) as number;
    index += code > 0xffff ? 2 : 1;
  }
  return index;
}

function isRoutine(words: readonly string[]): boolean {
  const [first, second, third, fourth] = words;
  if (first !== "create") return false;
  const kind = second === "or" && third === "replace" ? fourth : second;
  return kind === "function" || kind === "procedure";
}

function skipBlockComment(sql: string, from: number): number {
  let depth = 0;
  let i = from;
  while (i < sql.length) {
    if (sql.startsWith("/*", i)) {
      depth += 1;
      i += 2;
    } else if (sql.startsWith("*/", i)) {
      depth -= 1;
      i += 2;
      if (depth === 0) return i;
    } else {
      i += 1;
    }
  }
  return sql.length;
}

function skipQuoted(sql: string, from: number, quote: string, backslashEscapes: boolean): number {
  let i = from + 1;
  while (i < sql.length) {
    const char = sql[i];
    if (backslashEscapes && char === "\\") {
      i += 2;
    } else if (char === quote) {
      if (sql[i + 1] === quote) i += 2;
      else return i + 1;
    } else {
      i += 1;
    }
  }
  return sql.length;
}
