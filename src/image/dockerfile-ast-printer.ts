/**
 * Prints a Dockerfile syntax tree back to text that parses to the same tree (the same BuildKit dump).
 * Unlike the plan printer it keeps what a plan cannot hold: unknown flags, HEALTHCHECK types other
 * than CMD, instructions before FROM. Used as a formatter and by the conformance round trip.
 */
import type { DockerfileAst, DockerfileNode } from "./dockerfile-ast.js";

const shellForm = new Set(["run", "cmd", "entrypoint", "shell"]);
const oneString = new Set(["maintainer", "user", "workdir", "stopsignal"]);

/**
 * The Dockerfile text of a syntax tree, one instruction per line (heredoc bodies after their line),
 * with the tree's parser directives first.
 *
 * @example
 * ```ts
 * printDockerfileAst(parseDockerfileAst("from  alpine\nenv A 1\n")); // "FROM alpine\nENV A 1\n"
 * ```
 */
export function printDockerfileAst(ast: DockerfileAst): string {
  const lines = Object.entries(ast.directives).map(([name, value]) => `# ${name}=${value}`);
  for (const node of ast.children) lines.push(printNode(node));
  return lines.join("\n") + "\n";
}

function printNode(node: DockerfileNode): string {
  let line = node.value.toUpperCase();
  for (const flag of node.flags) line += ` ${quoteFlag(flag)}`;
  const args = node.args;
  const strings = args.filter((a): a is string => typeof a === "string");
  let rest: string;
  if (node.keyword === "onbuild") {
    const trigger = args[0];
    rest = trigger === undefined || typeof trigger === "string" ? "" : (printNode(trigger).split("\n")[0] as string);
  } else if (node.keyword === "env" || node.keyword === "label") {
    const parts: string[] = [];
    for (let i = 0; i < strings.length; i += 3) parts.push(strings[i + 2] === "" ? `${strings[i]} ${strings[i + 1]}` : `${strings[i]}=${strings[i + 1]}`);
    rest = parts.join(" ");
  } else if (node.keyword === "healthcheck") {
    const [type, ...command] = strings;
    rest = type === undefined ? "" : `${type} ${node.json ? JSON.stringify(command) : (command[0] ?? "")}`;
  } else if (node.json) {
    rest = JSON.stringify(strings);
  } else if (shellForm.has(node.keyword) || oneString.has(node.keyword)) {
    rest = strings[0] ?? "";
  } else if (!node.known) {
    rest = "";
  } else {
    rest = strings.join(" ");
  }
  const heredocs = node.heredocs.map((doc) => `\n${doc.content}${doc.name}`).join("");
  return (rest === "" ? line : `${line} ${rest}`) + heredocs;
}

// Flags lose their quotes when parsed; quote values that need them to survive the next parse.
function quoteFlag(flag: string): string {
  const eq = flag.indexOf("=");
  if (eq < 0 || !/[\s"'\\]/.test(flag)) return flag;
  return `${flag.slice(0, eq + 1)}"${flag.slice(eq + 1).replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
