/**
 * The Dockerfile syntax tree, as BuildKit's parser builds it (`frontend/dockerfile/parser`), and its
 * s-expression dump (`Node.Dump`), which the conformance corpus's `result` files hold.
 */
import { goQuote } from "./go-quote.js";
import type { Heredoc } from "./plan.js";
import type { EscapeToken } from "./shell-lexer.js";

/** One instruction: keyword, `--flags`, arguments as the instruction's line parser split them. */
export interface DockerfileNode {
  /** The keyword in lower case (`run`). */
  keyword: string;
  /** The keyword as written (`Run`). */
  value: string;
  /** The `--flags` in source order, each whole (`--from=build`), quotes removed. */
  flags: string[];
  /** Arguments; a nested node only for ONBUILD. */
  args: (string | DockerfileNode)[];
  /** True when the arguments were a JSON array (exec form). */
  json: boolean;
  /** False for a keyword BuildKit does not know (the instruction layer rejects it). */
  known: boolean;
  heredocs: Heredoc[];
  /** The logical line, continuations joined, comments inside it dropped. */
  original: string;
  /** 1-based, inclusive; heredoc bodies count toward `endLine`. */
  startLine: number;
  endLine: number;
  /** 1-based column of the keyword in its first line. */
  column: number;
  /** Comment lines right before the instruction. */
  comments: string[];
}

/** A parsed Dockerfile. */
export interface DockerfileAst {
  children: DockerfileNode[];
  /** First and last line of the instructions (1-based). */
  startLine: number;
  endLine: number;
  escape: EscapeToken;
  /** The parser directives found (`syntax`, `escape`, `check`), by lower-case name. */
  directives: Record<string, string>;
  /** Non-fatal findings, such as empty continuation lines. */
  warnings: string[];
}

/**
 * The BuildKit dump of a whole file: one line per instruction, joined with `\n` (no final newline).
 *
 * @example
 * ```ts
 * dumpDockerfileAst(parseDockerfileAst("FROM alpine\nENV a=1\n")); // '(from "alpine")\n(env "a" "1" "=")'
 * ```
 */
export function dumpDockerfileAst(ast: DockerfileAst): string {
  return ast.children.map((child) => `(${dumpNode(child)})`).join("\n");
}

/**
 * The BuildKit dump of one instruction, without the outer parentheses.
 *
 * @example
 * ```ts
 * dumpNode(node); // 'copy ["--from=build"] "/out" "/out"'
 * ```
 */
export function dumpNode(node: DockerfileNode): string {
  let out = node.keyword;
  if (node.flags.length > 0) out += ` [${node.flags.map(goQuote).join(" ")}]`;
  for (const arg of node.args) out += typeof arg === "string" ? ` ${goQuote(arg)}` : ` (${dumpNode(arg)})`;
  return out.trim();
}
