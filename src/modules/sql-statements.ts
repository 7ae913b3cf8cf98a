/**
 * Splits SQL text into its statements, for error messages only: the text always goes to the
 * server whole (it knows its grammar; a splitter that guesses wrong must not change what runs),
 * and a failure is then shown as the statement it happened in, found by the server's error
 * position or by how many statements completed before it.
 */

/** One statement of a script. */
export interface SqlStatement {
  /** Its text, trimmed, without the terminating semicolon. */
  text: string;
  /** The offset of its first character in the script. */
  start: number;
  /** The offset just past its end (its semicolon, or the end of the script). */
  end: number;
  /** The 1-based line its first character is on. */
  line: number;
}

/**
 * The statements of `sql`, split at semicolons outside quotes ('...', "...", E'...'), dollar
 * quotes ($tag$...$tag$), and comments (-- to the end of the line, nested slash-star). Empty
 * statements (only blanks and comments) are left out, as the server runs nothing for them.
 *
 * @example
 * ```ts
 * splitSqlStatements("CREATE TABLE t (x text);\nINSERT INTO t VALUES ('a;b');").map((s) => s.text);
 * // ["CREATE TABLE t (x text)", "INSERT INTO t VALUES ('a;b')"]
 * ```
 */
export function splitSqlStatements(sql: string): SqlStatement[] {
  const statements: SqlStatement[] = [];
  let hasCode = false;
  let codeStart = 0;
  const finish = (end: number) => {
    if (hasCode) {
      const text = sql.slice(codeStart, end).trim();
      statements.push({ text, start: codeStart, end, line: sql.slice(0, codeStart).split("\n").length });
    }
    hasCode = false;
  };
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === "-" && next === "-") {
      const eol = sql.indexOf("\n", i);
      i = eol < 0 ? sql.length : eol + 1;
      continue;
    }
    if (c === "/" && next === "*") {
      let depth = 1;
      i += 2;
      while (i < sql.length && depth > 0) {
        if (sql[i] === "/" && sql[i + 1] === "*") depth++, (i += 2);
        else if (sql[i] === "*" && sql[i + 1] === "/") depth--, (i += 2);
        else i++;
      }
      continue;
    }
    if (c === ";") {
      finish(i);
      i++;
      continue;
    }
    if (!hasCode && !/\s/.test(c)) {
      hasCode = true;
      codeStart = i;
    }
    if (c === "'" || c === '"') {
      const escapes = c === "'" && (sql[i - 1] === "E" || sql[i - 1] === "e");
      i++;
      while (i < sql.length) {
        if (escapes && sql[i] === "\\") i += 2;
        else if (sql[i] === c && sql[i + 1] === c) i += 2;
        else if (sql[i] === c) break;
        else i++;
      }
      i++;
      continue;
    }
    if (c === "$") {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 64));
      if (tag && !/[A-Za-z0-9_]/.test(sql[i - 1] ?? "")) {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        i = close < 0 ? sql.length : close + tag[0].length;
        continue;
      }
    }
    i++;
  }
  finish(sql.length);
  return statements;
}

/**
 * The statement a server error points at: the one holding the 1-based character `position`
 * when the server gave one, else the one after the `completed` statements that succeeded.
 *
 * @example
 * ```ts
 * failedStatement(splitSqlStatements(sql), error.position, error.completedStatements)?.text;
 * ```
 */
export function failedStatement(statements: readonly SqlStatement[], position: number | undefined, completed: number): SqlStatement | undefined {
  if (position !== undefined) {
    const at = position - 1;
    const hit = statements.find((s) => at >= s.start && at <= s.end);
    if (hit) return hit;
  }
  return statements[completed];
}
