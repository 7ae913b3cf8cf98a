/**
 * The statement splitter that names the failing statement of a template or migration.
 */
import { describe, expect, it } from "vitest";
import { failedStatement, splitSqlStatements } from "../../../src/modules/sql-statements.js";

describe("splitSqlStatements", () => {
  it("splits at semicolons outside quotes, dollar quotes and comments", () => {
    const sql = [
      "-- a comment; not a statement",
      "CREATE TABLE t (x text DEFAULT 'a;b', \"we;ird\" int);",
      "/* block; /* nested; */ still comment; */",
      "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;",
      "INSERT INTO t VALUES (E'it\\'s;'), ('x'';y');",
      "SELECT $$;$$",
    ].join("\n");
    expect(splitSqlStatements(sql).map((s) => [s.line, s.text])).toEqual([
      [2, "CREATE TABLE t (x text DEFAULT 'a;b', \"we;ird\" int)"],
      [4, "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql"],
      [5, "INSERT INTO t VALUES (E'it\\'s;'), ('x'';y')"],
      [6, "SELECT $$;$$"],
    ]);
  });

  it("leaves out empty statements and keeps $1-style parameters as code", () => {
    expect(splitSqlStatements(";;  ; -- x\n").length).toBe(0);
    expect(splitSqlStatements("SELECT $1; SELECT 2").map((s) => s.text)).toEqual(["SELECT $1", "SELECT 2"]);
  });
});

describe("failedStatement", () => {
  const sql = "CREATE TABLE a (id int);\nINSERT INTO a VALUES (1);\nINSERT INTO nope VALUES (2);";
  const statements = splitSqlStatements(sql);

  it("finds the statement that holds the server's error position (1-based)", () => {
    expect(failedStatement(statements, sql.indexOf("nope") + 1, 0)?.line).toBe(3);
  });

  it("without a position, takes the statement after those that completed", () => {
    expect(failedStatement(statements, undefined, 1)?.text).toBe("INSERT INTO a VALUES (1)");
    expect(failedStatement(statements, undefined, 5)).toBeUndefined();
  });
});
