/**
 * Expansion of the templates of filesystem steps (COPY, ADD) against a stage's variables at that
 * step, as BuildKit's dispatcher does before it copies: the build executor calls it with
 * `StageState.vars` from the config fold.
 */
import type { AddStep, CopyStep, Heredoc } from "./plan.js";
import { processWord, type EscapeToken } from "./shell-lexer.js";

/**
 * A COPY or ADD step with its sources, destination, `--chown`, `--chmod`, `--from` reference and
 * expandable heredoc bodies expanded. Heredoc sources (`<<EOF`) stay as they are; bodies expand only
 * `$VAR` (quotes and backslashes are kept), and only when the delimiter was not quoted.
 *
 * @example
 * ```ts
 * let state = startStage(emptyImageConfig());
 * state = applyConfigStep(state, { kind: "env", vars: [{ key: "APP", value: "/srv/app" }] });
 * expandFileStep({ kind: "copy", sources: ["dist/"], dest: "$APP/" }, state.vars).dest; // "/srv/app/"
 * ```
 */
export function expandFileStep<T extends CopyStep | AddStep>(step: T, vars: Readonly<Record<string, string>>, escape: EscapeToken = "\\"): T {
  const word = (text: string): string => processWord(text, vars, { escape });
  const heredocNames = new Set((step.heredocs ?? []).map((h) => h.name));
  const isHeredocSource = (source: string): boolean => {
    const match = /^\d*<<-?(.*)$/.exec(source);
    return match !== null && heredocNames.has((match[1] as string).replace(/^["']|["']$/g, ""));
  };
  const out: T = {
    ...step,
    sources: step.sources.map((s) => (isHeredocSource(s) ? s : word(s))),
    dest: word(step.dest),
  };
  if (step.chown !== undefined) out.chown = word(step.chown);
  if (step.chmod !== undefined) out.chmod = word(step.chmod);
  if (step.kind === "copy" && step.from?.type === "ref") (out as CopyStep).from = { type: "ref", ref: word(step.from.ref) };
  if (step.heredocs !== undefined) {
    out.heredocs = step.heredocs.map((doc) => (doc.expand ? { ...doc, content: processWord(doc.content, vars, { rawQuotes: true, rawEscapes: true }) } : doc));
  }
  return out;
}

/**
 * The text a heredoc stands for: its body, with leading tabs removed from every line for `<<-`.
 *
 * @example
 * ```ts
 * heredocBody({ name: "EOF", content: "\techo hi\n", expand: true, chomp: true }); // "echo hi\n"
 * ```
 */
export function heredocBody(doc: Heredoc): string {
  return doc.chomp ? doc.content.replace(/^\t+/gm, "") : doc.content;
}
