/**
 * What a migration statement creates or changes, read from its first words: enough for adoption to
 * decide whether the object is already there (kept, replaced or skipped) without parsing SQL.
 */
import type { SqlStatement } from "../migrations/sql-statements.ts";

export interface QualifiedName {
  readonly schema: string;
  readonly name: string;
}

export type StatementTarget =
  | { readonly kind: "table"; readonly table: QualifiedName }
  | { readonly kind: "index"; readonly name: string; readonly table: QualifiedName }
  | { readonly kind: "policy"; readonly name: string; readonly table: QualifiedName }
  | { readonly kind: "trigger"; readonly name: string; readonly table: QualifiedName }
  | { readonly kind: "function"; readonly function: QualifiedName }
  | { readonly kind: "add-constraint"; readonly table: QualifiedName; readonly names: readonly string[] }
  | { readonly kind: "other" };

const NAME = String.raw`(?:"[^"]+"|[A-Za-z_][\w$]*)`;
const QUALIFIED = String.raw`(${NAME}(?:\s*\.\s*${NAME})?)`;

const PATTERNS = {
  table: new RegExp(String.raw`^create\s+table\s+(?:if\s+not\s+exists\s+)?${QUALIFIED}`, "i"),
  index: new RegExp(
    String.raw`^create\s+(?:unique\s+)?index\s+(?:concurrently\s+)?(?:if\s+not\s+exists\s+)?(${NAME})\s+on\s+(?:only\s+)?${QUALIFIED}`,
    "i",
  ),
  policy: new RegExp(String.raw`^create\s+policy\s+(${NAME})\s+on\s+${QUALIFIED}`, "i"),
  trigger: new RegExp(
    String.raw`^create\s+(?:or\s+replace\s+)?(?:constraint\s+)?trigger\s+(${NAME})\s[\s\S]*?\son\s+${QUALIFIED}`,
    "i",
  ),
  function: new RegExp(String.raw`^create\s+(?:or\s+replace\s+)?function\s+${QUALIFIED}\s*\(`, "i"),
  addConstraint: new RegExp(String.raw`^alter\s+table\s+(?:only\s+)?${QUALIFIED}\s+add\s+constraint\s`, "i"),
};

function unquote(name: string): string {
  return name.startsWith('"') ? name.slice(1, -1) : name.toLowerCase();
}

/** `public.profiles`, `"public"."x"` or `profiles` (schema public). */
export function qualifiedName(text: string): QualifiedName {
  const parts = text.split(/\s*\.\s*/);
  return parts.length === 2
    ? { schema: unquote(parts[0] ?? ""), name: unquote(parts[1] ?? "") }
    : { schema: "public", name: unquote(parts[0] ?? "") };
}

export function formatName(name: QualifiedName): string {
  return `${name.schema}.${name.name}`;
}

export function statementTarget(statement: SqlStatement): StatementTarget {
  const text = statement.text;
  let match = PATTERNS.table.exec(text);
  if (match) return { kind: "table", table: qualifiedName(match[1] ?? "") };
  match = PATTERNS.index.exec(text);
  if (match) return { kind: "index", name: unquote(match[1] ?? ""), table: qualifiedName(match[2] ?? "") };
  match = PATTERNS.policy.exec(text);
  if (match) return { kind: "policy", name: unquote(match[1] ?? ""), table: qualifiedName(match[2] ?? "") };
  match = PATTERNS.trigger.exec(text);
  if (match) return { kind: "trigger", name: unquote(match[1] ?? ""), table: qualifiedName(match[2] ?? "") };
  match = PATTERNS.function.exec(text);
  if (match) return { kind: "function", function: qualifiedName(match[1] ?? "") };
  match = PATTERNS.addConstraint.exec(text);
  if (match) {
    const names = [...text.matchAll(new RegExp(String.raw`add\s+constraint\s+(${NAME})`, "gi"))].map((m) =>
      unquote(m[1] ?? ""),
    );
    return { kind: "add-constraint", table: qualifiedName(match[1] ?? ""), names };
  }
  return { kind: "other" };
}

/** `create function` → `create or replace function` (same effect where it does not exist yet). */
export function createOrReplace(text: string): string {
  return text.replace(/^create\s+function\s/i, "create or replace function ");
}
