import { describe, expect, it } from "vitest";
import {
  findTransactionControl,
  indexOfPosition,
  splitSqlStatements,
  statementAt,
} from "../src/migrations/sql-statements.ts";

const texts = (sql: string) => splitSqlStatements(sql).map((statement) => statement.text);

describe("splitSqlStatements", () => {
  it("splits on semicolons and reports the line each statement starts on", () => {
    const statements = splitSqlStatements(
      "create table a (id int);\n\n-- note\ninsert into a\n  values (1);\nselect 1",
    );
    expect(statements.map(({ text, line }) => ({ text, line }))).toEqual([
      { text: "create table a (id int)", line: 1 },
      { text: "insert into a\n  values (1)", line: 4 },
      { text: "select 1", line: 6 },
    ]);
  });

  it("ignores semicolons in strings, identifiers, comments and dollar quotes", () => {
    const sql = [
      "select 'a;b', 'it''s;', E'\\';x', \"odd;name\";",
      "/* one; /* nested; */ still; */ select 2;",
      "create function f() returns int language sql as $fn$ select 1; $fn$;",
      "do $$ begin perform 1; end $$;",
    ].join("\n");
    expect(texts(sql)).toEqual([
      "select 'a;b', 'it''s;', E'\\';x', \"odd;name\"",
      "select 2",
      "create function f() returns int language sql as $fn$ select 1; $fn$",
      "do $$ begin perform 1; end $$",
    ]);
  });

  it("keeps a SQL-standard function body (begin atomic ... end) in one statement", () => {
    const sql = [
      "create or replace function public.grade(score int) returns text language sql",
      "begin atomic",
      "  select case when score > 5 then 'high' else 'low' end;",
      "end;",
      "select 1;",
    ].join("\n");
    expect(texts(sql)).toEqual([sql.split("\nselect 1;")[0]?.replace(/;$/, ""), "select 1"]);
  });

  it("keeps a rule's parenthesised action list in one statement", () => {
    expect(
      texts("create rule r as on insert to t do also (insert into a values (1); insert into b values (2));"),
    ).toEqual([
      "create rule r as on insert to t do also (insert into a values (1); insert into b values (2))",
    ]);
  });

  it("does not take $1 parameters or identifiers with $ for dollar quotes", () => {
    expect(texts("prepare p as select $1; select a$b$c from t;")).toEqual([
      "prepare p as select $1",
      "select a$b$c from t",
    ]);
  });
});

describe("statementAt", () => {
  const sql = "select 1;\nselect 2;\n";
  const statements = splitSqlStatements(sql);
  it("finds the statement around an index, its semicolon included", () => {
    expect(statementAt(statements, sql.indexOf("2"))?.text).toBe("select 2");
    expect(statementAt(statements, sql.indexOf(";"))?.text).toBe("select 1");
  });
  it("takes the last statement for an error at the end of the input", () => {
    expect(statementAt(statements, sql.length)?.text).toBe("select 2");
  });
});

describe("findTransactionControl", () => {
  it.each(["begin;", "BEGIN TRANSACTION;", "start transaction;", "commit;", "end;", "rollback;", "abort;"])(
    "flags %s",
    (statement) => {
      expect(findTransactionControl(splitSqlStatements(`select 1;\n${statement}`))?.line).toBe(2);
    },
  );

  it.each([
    "savepoint s; rollback to savepoint s; release savepoint s;",
    "do $$ begin perform 1; end $$;",
    "create function f() returns int language sql begin atomic select 1; end;",
    "create procedure p() language plpgsql as $$ begin commit; end $$;",
  ])("accepts %s", (sql) => {
    expect(findTransactionControl(splitSqlStatements(sql))).toBeUndefined();
  });
});

describe("indexOfPosition", () => {
  it("counts characters the way PostgreSQL does, not UTF-16 code units", () => {
    const sql = "select '😀', 'привет', nope";
    expect(indexOfPosition(sql, [...sql].indexOf("n") + 1)).toBe(sql.indexOf("nope"));
  });
});
