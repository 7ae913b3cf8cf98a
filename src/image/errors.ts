/**
 * Errors of the image front end: Dockerfile syntax, plan validation and `$VAR` expansion. Each has a
 * stable `code` and keeps its facts in fields (see shared/STYLE.md section 5).
 */
import { BentoError, type BentoErrorOptions } from "../errors.js";

/**
 * Where a Dockerfile error is, and what the parser wanted there; a {@link DockerfileSyntaxError}
 * carries the same fields.
 *
 * @example
 * ```ts
 * const details: DockerfileErrorDetails = { file: "Dockerfile", line: 2, column: 1, instruction: "ENV", expected: "a name=value pair" };
 * ```
 */
export interface DockerfileErrorDetails {
  /** The Dockerfile's path, or `"<inline>"` for text passed directly. */
  file: string;
  /** 1-based line of the instruction (its first line when it spans several). */
  line: number;
  /** 1-based column in that line; 1 when the whole line is at fault. */
  column: number;
  /** The instruction keyword in upper case (`"COPY"`), when one was read. */
  instruction?: string;
  /** What was expected there, such as `a name=value pair`. */
  expected?: string;
}

/**
 * A Dockerfile could not be parsed. Names the file, line, column, instruction and what was expected.
 * Nothing was changed.
 *
 * @example
 * ```ts
 * try { Image.fromDockerfile({ dockerfile: "FROM alpine\nENV PATH\n" }); }
 * catch (e) { if (e instanceof DockerfileSyntaxError) console.log(e.line, e.instruction); } // 2 "ENV"
 * ```
 */
export class DockerfileSyntaxError extends BentoError {
  /** The Dockerfile's path, or `"<inline>"`. */
  readonly file: string;
  /** 1-based line number. */
  readonly line: number;
  /** 1-based column number. */
  readonly column: number;
  /** The instruction keyword, when one was read. */
  readonly instruction: string | undefined;
  /** What the parser expected, when it can say. */
  readonly expected: string | undefined;
  /** The problem without the location prefix. */
  readonly reason: string;

  constructor(fullReason: string, details: DockerfileErrorDetails, options: BentoErrorOptions = {}) {
    // The reason and keyword quote the Dockerfile: a 10 MB line must not make a 20 MB message.
    const reason = clipQuoted(fullReason, 400);
    details = details.instruction === undefined ? details : { ...details, instruction: clipQuoted(details.instruction, 40) };
    const where = `${details.file}:${details.line}:${details.column}`;
    const what = details.instruction === undefined || reason.startsWith(details.instruction) ? "" : `${details.instruction}: `;
    const expected = details.expected === undefined ? "" : ` (expected ${details.expected})`;
    super("ERR_DOCKERFILE_SYNTAX", `${where}: ${what}${reason}${expected}`, options);
    this.file = details.file;
    this.line = details.line;
    this.column = details.column;
    this.instruction = details.instruction;
    this.expected = details.expected;
    this.reason = reason;
  }
}

/**
 * `text` cut to about `max` characters: its start and end stay (where the instruction and the
 * parser's hint are), the middle is replaced by a count of what was left out.
 *
 * @example
 * ```ts
 * clipQuoted("a".repeat(1000), 40); // "aaaaaaaaaaaaaaaaaaaa…(960 characters)…aaaaaaaaaaaaaaaaaaaa"
 * ```
 */
export function clipQuoted(text: string, max: number): string {
  if (text.length <= max) return text;
  const keep = Math.floor(max / 2);
  return `${text.slice(0, keep)}…(${text.length - 2 * keep} characters)…${text.slice(text.length - keep)}`;
}

/**
 * A JSON plan given to `Image.fromPlan()` is not a valid bento plan. `path` points at the bad value.
 *
 * @example
 * ```ts
 * try { Image.fromPlan({ version: 2, steps: [] }); }
 * catch (e) { if (e instanceof InvalidPlanError) console.log(e.path); } // "version"
 * ```
 */
export class InvalidPlanError extends BentoError {
  /** The JSON path of the bad value, such as `steps[3].kind`. */
  readonly path: string;

  constructor(path: string, message: string) {
    super("ERR_INVALID_PLAN", `invalid plan at ${path}: ${message}`);
    this.path = path;
  }
}

/**
 * `$VAR` expansion failed: bad `${...}` syntax, an unterminated quote, or `${VAR:?message}` on an
 * unset variable.
 *
 * @example
 * ```ts
 * try { processWord("${NAME:?must be set}", {}); }
 * catch (e) { if (e instanceof ShellExpansionError) console.log(e.word, e.reason); }
 * ```
 */
export class ShellExpansionError extends BentoError {
  /** The word that was being expanded. */
  readonly word: string;
  /** The problem, such as `syntax error: bad substitution`. */
  readonly reason: string;

  constructor(word: string, reason: string) {
    super("ERR_SHELL_EXPANSION", `failed to process ${JSON.stringify(word)}: ${reason}`);
    this.word = word;
    this.reason = reason;
  }
}
