/**
 * Dockerfile text to syntax tree, following BuildKit's `frontend/dockerfile/parser/parser.go`
 * (cited, not copied): parser directives, line continuations (with comment and blank lines inside
 * them), comments, here-documents, CRLF line ends and a UTF-8 byte-order mark.
 */
import type { DockerfileAst, DockerfileNode } from "./dockerfile-ast.js";
import { goTrimSpace, isKnownInstruction, LineSyntaxError, parseInstructionArgs, splitCommand } from "./dockerfile-line-parsers.js";
import { DockerfileSyntaxError } from "./errors.js";
import type { Heredoc } from "./plan.js";
import { expandShellWord, isGoSpace, type EscapeToken } from "./shell-lexer.js";

/** Options of {@link parseDockerfileAst}. */
export interface ParseDockerfileOptions {
  /** The file name errors mention. Default `"Dockerfile"`. */
  file?: string;
}

// `# name = value` at the top of the file; BuildKit knows syntax, escape and check.
const directiveRe = /^#[ \t]*([a-zA-Z][a-zA-Z0-9]*)[ \t]*=[ \t]*(.+?)[ \t]*$/;
const knownDirectives = new Set(["syntax", "escape", "check"]);
// Instructions whose shell form may carry heredocs; ONBUILD may wrap one of them.
const heredocInstructions = new Set(["add", "copy", "run"]);
const heredocWord = /^(\d*)<<(-?)([^<]*)$/;

/**
 * Parses Dockerfile text into BuildKit's syntax tree. Throws {@link DockerfileSyntaxError} with the
 * file, line and column on malformed input (an empty file, bad JSON arrays of non-strings, `ENV`
 * without a value, an unterminated heredoc, a repeated or invalid directive).
 *
 * @example
 * ```ts
 * const ast = parseDockerfileAst("FROM alpine\nRUN echo hi\n");
 * ast.children[1]?.args; // ["echo hi"]
 * ```
 */
export function parseDockerfileAst(text: string, options: ParseDockerfileOptions = {}): DockerfileAst {
  return new DockerfileReader(text, options.file ?? "Dockerfile").read();
}

class DockerfileReader {
  private readonly lines: string[];
  private next = 0;
  private escape: EscapeToken = "\\";
  private continuation = continuationRegex("\\");
  private directivesDone = false;
  private readonly directives: Record<string, string> = {};
  private readonly warnings: string[] = [];

  constructor(
    text: string,
    private readonly file: string,
  ) {
    // Lines keep their "\n": heredoc bodies are kept byte for byte, CRLF included.
    this.lines = text === "" ? [] : text.split(/(?<=\n)/);
    if (this.lines.length > 0 && (this.lines[0] as string).startsWith("\uFEFF")) this.lines[0] = (this.lines[0] as string).slice(1);
  }

  read(): DockerfileAst {
    const children: DockerfileNode[] = [];
    let comments: string[] = [];
    while (this.next < this.lines.length) {
      const raw = this.lines[this.next++] as string;
      const lineNumber = this.next;
      if (isComment(raw)) comments.push(goTrimSpace(trimLeadingSpace(trimNewline(raw)).slice(1)));
      const first = this.processLine(raw, true, lineNumber);
      let [line, ended] = this.trimContinuation(first);
      if (ended && line === "") continue;
      const startLine = lineNumber;
      let emptyContinuation = false;
      while (!ended && this.next < this.lines.length) {
        const nextRaw = this.lines[this.next++] as string;
        const processed = this.processLine(nextRaw, false, this.next);
        // Comment lines and blank lines inside a continuation are skipped (the blank ones warned about).
        if (isComment(nextRaw)) continue;
        if (trimLeadingSpace(trimNewline(processed)) === "") {
          emptyContinuation = true;
          continue;
        }
        let part: string;
        [part, ended] = this.trimContinuation(processed);
        line += part;
      }
      if (emptyContinuation) this.warnings.push(`empty continuation line in the instruction at line ${startLine}: ${line}`);
      const column = 1 + (trimNewline(raw).length - trimLeadingSpace(trimNewline(raw)).length);
      const node = this.nodeFromLine(line, startLine, column);
      node.comments = comments;
      comments = [];
      if (canContainHeredoc(node)) this.readHeredocs(node, line, startLine);
      node.endLine = this.next;
      children.push(node);
    }
    if (children.length === 0) {
      throw new DockerfileSyntaxError("file with no instructions", { file: this.file, line: Math.max(this.lines.length, 1), column: 1, expected: "at least one instruction, such as FROM" });
    }
    return {
      children,
      startLine: (children[0] as DockerfileNode).startLine,
      endLine: (children[children.length - 1] as DockerfileNode).endLine,
      escape: this.escape,
      directives: { ...this.directives },
      warnings: [...this.warnings],
    };
  }

  // One physical line: line end removed, leading space removed (first lines only), comment lines
  // emptied, and a look for parser directives while they are still allowed.
  private processLine(raw: string, stripLeft: boolean, lineNumber: number): string {
    let token = trimNewline(raw);
    if (stripLeft) token = trimLeadingSpace(token);
    this.possibleDirective(token, lineNumber);
    return token.startsWith("#") ? "" : token;
  }

  private possibleDirective(line: string, lineNumber: number): void {
    if (this.directivesDone) return;
    const match = directiveRe.exec(line);
    const name = match?.[1]?.toLowerCase();
    if (match === null || name === undefined || !knownDirectives.has(name)) {
      this.directivesDone = true;
      return;
    }
    const where = { file: this.file, line: lineNumber, column: 1 };
    if (Object.hasOwn(this.directives, name)) throw new DockerfileSyntaxError(`only one ${name} parser directive can be used`, where);
    const value = match[2] as string;
    this.directives[name] = value;
    if (name === "escape") {
      if (value !== "\\" && value !== "`") throw new DockerfileSyntaxError(`invalid escape token '${value}' does not match \` or \\`, { ...where, expected: "# escape=\\ or # escape=`" });
      this.escape = value;
      this.continuation = continuationRegex(value);
    }
  }

  // The escape character at the end of a line continues it, unless it is itself escaped.
  private trimContinuation(line: string): [string, boolean] {
    if (!this.continuation.test(line)) return [line, true];
    return [line.replace(this.continuation, "$1"), false];
  }

  private nodeFromLine(line: string, startLine: number, column: number): DockerfileNode {
    const { keyword: value, flags, rest } = splitCommand(line);
    const keyword = value.toLowerCase();
    let parsed;
    try {
      parsed = parseInstructionArgs(keyword, rest, this.escape, (sub) => this.nodeFromLine(sub, startLine, column));
    } catch (error) {
      if (!(error instanceof LineSyntaxError)) throw error;
      throw this.lineError(error.message, line, startLine, value.toUpperCase(), error.expected, error.near);
    }
    return {
      keyword,
      value,
      flags,
      args: parsed.args,
      json: parsed.json,
      known: isKnownInstruction(keyword),
      heredocs: [],
      original: line,
      startLine,
      endLine: startLine,
      column,
      comments: [],
    };
  }

  private readHeredocs(node: DockerfileNode, line: string, startLine: number): void {
    for (const doc of this.heredocsFromLine(line, startLine, node.value.toUpperCase())) {
      let terminated = false;
      while (this.next < this.lines.length) {
        const raw = this.lines[this.next++] as string;
        let candidate = trimNewline(raw);
        if (doc.chomp) candidate = candidate.replace(/^\t+/, "");
        if (candidate === doc.name) {
          terminated = true;
          break;
        }
        doc.content += raw;
      }
      if (!terminated) {
        throw new DockerfileSyntaxError(`unterminated heredoc <<${doc.name}`, {
          file: this.file,
          line: startLine,
          column: 1,
          instruction: node.value.toUpperCase(),
          expected: `a line with only ${doc.name} to end the here-document`,
        });
      }
      node.heredocs.push(doc);
    }
  }

  // Every word of the line of the form [fd]<<[-]NAME starts a here-document; a quoted NAME turns
  // off expansion of its body.
  private heredocsFromLine(line: string, startLine: number, instruction: string): Heredoc[] {
    if (!line.includes("<<")) return [];
    let words: string[];
    try {
      words = expandShellWord(line, {}, { rawQuotes: true, rawEscapes: true, skipUnsetEnv: true }).words;
    } catch {
      return [];
    }
    const docs: Heredoc[] = [];
    for (const word of words) {
      const match = heredocWord.exec(word);
      if (match === null || match[3] === "") continue;
      let plain: string[];
      let raw: string[];
      try {
        plain = expandShellWord(match[3] as string, {}, { skipUnsetEnv: true }).words;
        raw = expandShellWord(match[3] as string, {}, { skipUnsetEnv: true, rawQuotes: true }).words;
      } catch (error) {
        throw this.lineError(`invalid here-document delimiter ${JSON.stringify(match[3])}: ${(error as Error).message}`, line, startLine, instruction, "a delimiter word such as EOF or 'EOF'", word);
      }
      if (plain.length !== 1) continue;
      const quotes = (w: string) => (w.match(/['"]/g) ?? []).length;
      const doc: Heredoc = { name: plain[0] as string, content: "", expand: quotes(plain[0] as string) === quotes(raw[0] as string), chomp: match[2] === "-" };
      if (match[1] !== "") doc.fd = Number(match[1]);
      docs.push(doc);
    }
    return docs;
  }

  private lineError(message: string, line: string, startLine: number, instruction: string, expected?: string, near?: string): DockerfileSyntaxError {
    const firstLine = trimNewline(this.lines[startLine - 1] ?? line);
    const at = near === undefined ? -1 : firstLine.indexOf(near);
    const column = at >= 0 ? at + 1 : 1 + (firstLine.length - trimLeadingSpace(firstLine).length);
    return new DockerfileSyntaxError(message, { file: this.file, line: startLine, column, instruction, ...(expected === undefined ? {} : { expected }) });
  }
}

function canContainHeredoc(node: DockerfileNode): boolean {
  let target = node;
  if (node.keyword === "onbuild" && typeof node.args[0] === "object") target = node.args[0];
  return heredocInstructions.has(target.keyword) && !target.json;
}

function continuationRegex(escape: EscapeToken): RegExp {
  const e = escape === "\\" ? "\\\\" : "`";
  return new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`);
}

function isComment(raw: string): boolean {
  return trimLeadingSpace(trimNewline(raw)).startsWith("#");
}

function trimNewline(raw: string): string {
  return raw.replace(/[\r\n]+$/, "");
}

function trimLeadingSpace(text: string): string {
  let i = 0;
  while (i < text.length && isGoSpace(text[i] as string)) i++;
  return text.slice(i);
}
