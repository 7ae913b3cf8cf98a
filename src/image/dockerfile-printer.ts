/**
 * Prints a plan as Dockerfile text. Pure; an exhaustive switch over step kinds. A plan parsed from a
 * Dockerfile prints to text that parses back to the same plan (source locations aside). Steps with no
 * Dockerfile form are printed as `# bento:` comments next to the closest equivalent, never dropped.
 */
import { formatGoDurationMs } from "./duration.js";
import { parseWords, singleWordTemplate } from "./dockerfile-words.js";
import type { CommandLine, CopySource, Heredoc, ImageBase, ImagePlan, ImageStep, KeyValue } from "./plan.js";
import { formatRunMount } from "./run-mount.js";
import type { EscapeToken } from "./shell-lexer.js";
import { embedImages } from "./plan-embedding.js";

/**
 * The Dockerfile for a plan. Embedded images (`from(otherImage)`, `copy(..., { from: otherImage })`)
 * become named stages (`bento-image-1-...`) before the plan's own stages.
 *
 * @example
 * ```ts
 * toDockerfile(Image.from("alpine:3.20").run("echo hi").toPlan()); // "FROM alpine:3.20\nRUN echo hi\n"
 * ```
 */
export function toDockerfile(plan: ImagePlan): string {
  const escape = plan.escape ?? "\\";
  const lines: string[] = [];
  if (plan.syntax !== undefined) lines.push(`# syntax=${plan.syntax}`);
  if (escape !== "\\") lines.push(`# escape=${escape}`);
  const flat = embedImages(plan);
  for (const note of flat.notes) lines.push(`# bento: ${note}`);
  for (const step of flat.steps) lines.push(printStep(step, escape));
  return lines.join("\n") + "\n";
}

/**
 * One step as Dockerfile text (several lines for heredocs and for `# bento:` notes), without a final
 * newline. Embedded plans are printed as a comment here; {@link toDockerfile} turns them into stages.
 *
 * @example
 * ```ts
 * printStep({ kind: "env", vars: [{ key: "A", value: "1 2" }] }, "\\"); // "ENV A 1 2"
 * ```
 */
export function printStep(step: ImageStep, escape: EscapeToken): string {
  switch (step.kind) {
    case "from": {
      const platform = step.platform === undefined ? "" : `--platform=${flagValue(step.platform)} `;
      const as = step.stage === undefined ? "" : ` AS ${step.stage}`;
      const note = baseNote(step.base);
      return `${note}FROM ${platform}${baseText(step.base)}${as}`;
    }
    case "arg":
      return `ARG ${step.args.map((a) => (a.default === undefined ? a.name : `${a.name}=${singleWordTemplate(a.default, escape)}`)).join(" ")}`;
    case "env":
      return `ENV ${keyValues(step.vars, escape)}`;
    case "label":
      return `LABEL ${keyValues(step.labels, escape)}`;
    case "workdir":
      return `WORKDIR ${step.path}`;
    case "user":
      return `USER ${step.user}`;
    case "stopSignal":
      return `STOPSIGNAL ${step.signal}`;
    case "maintainer":
      return `MAINTAINER ${step.name}`;
    case "onbuild":
      return `ONBUILD ${step.instruction}`;
    case "expose":
      return `EXPOSE ${step.ports.join(" ")}`;
    case "volume":
      return `VOLUME ${pathList(step.paths)}`;
    case "shell":
      return `SHELL ${JSON.stringify(step.argv)}`;
    case "copy": {
      const flags = [
        step.from === undefined ? undefined : `--from=${flagValue(copySourceText(step.from))}`,
        step.chown === undefined ? undefined : `--chown=${flagValue(step.chown)}`,
        step.chmod === undefined ? undefined : `--chmod=${flagValue(step.chmod)}`,
        boolFlag("link", step.link),
        boolFlag("parents", step.parents),
        ...(step.exclude ?? []).map((p) => `--exclude=${flagValue(p)}`),
      ];
      return withHeredocs(`COPY ${joinFlags(flags)}${pathList([...step.sources, step.dest])}`, step.heredocs);
    }
    case "add": {
      const flags = [
        step.chown === undefined ? undefined : `--chown=${flagValue(step.chown)}`,
        step.chmod === undefined ? undefined : `--chmod=${flagValue(step.chmod)}`,
        boolFlag("link", step.link),
        step.checksum === undefined ? undefined : `--checksum=${flagValue(step.checksum)}`,
        boolFlag("keep-git-dir", step.keepGitDir),
        boolFlag("unpack", step.unpack),
        ...(step.exclude ?? []).map((p) => `--exclude=${flagValue(p)}`),
      ];
      return withHeredocs(`ADD ${joinFlags(flags)}${pathList([...step.sources, step.dest])}`, step.heredocs);
    }
    case "run": {
      const flags = [
        ...(step.mounts ?? []).map((m) => `--mount=${flagValue(formatRunMount(m))}`),
        step.network === undefined ? undefined : `--network=${step.network}`,
        step.security === undefined ? undefined : `--security=${step.security}`,
      ];
      let command = step.command;
      let note = "";
      if (step.env !== undefined && step.env.length > 0) {
        // Dockerfile RUN has no per-step environment: carry it in the command itself.
        note = `# bento: RUN env ${step.env.map((e) => e.key).join(", ")} is applied by the command (RUN has no env option)\n`;
        command = withRunEnv(command, step.env);
      }
      const heredocs = [...(step.heredocs ?? [])];
      let text: string;
      if (command.form === "shell" && command.text.includes("\n") && heredocs.length === 0) {
        // A multi-line script has no one-line form; a lone heredoc is BuildKit's way to run a script.
        const doc = scriptHeredoc(command.text);
        heredocs.push(doc);
        text = `<<${doc.name}`;
      } else {
        text = commandText(command);
      }
      return note + withHeredocs(`RUN ${joinFlags(flags)}${text}`, heredocs);
    }
    case "healthcheck": {
      if (step.test[0] === "NONE") return "HEALTHCHECK NONE";
      const flags = [
        durationFlag("interval", step.intervalMs),
        durationFlag("timeout", step.timeoutMs),
        durationFlag("start-period", step.startPeriodMs),
        durationFlag("start-interval", step.startIntervalMs),
        step.retries === undefined ? undefined : `--retries=${step.retries}`,
      ];
      const command: CommandLine = step.test[0] === "CMD-SHELL" ? { form: "shell", text: step.test[1] ?? "" } : { form: "exec", argv: step.test.slice(1) };
      return `HEALTHCHECK ${joinFlags(flags)}CMD ${commandText(command)}`;
    }
    case "entrypoint":
      return `ENTRYPOINT ${commandText(step.command)}`;
    case "cmd":
      return `CMD ${commandText(step.command)}`;
    default: {
      const unknown: never = step;
      return `# bento: unknown step ${JSON.stringify(unknown)}`;
    }
  }
}

function baseText(base: ImageBase): string {
  switch (base.type) {
    case "scratch":
    case "rootfs":
      return "scratch";
    case "ref":
      return base.ref;
    case "stage":
      return base.name;
    case "image":
      return "scratch";
    default: {
      const unknown: never = base;
      return String(unknown);
    }
  }
}

function baseNote(base: ImageBase): string {
  if (base.type === "rootfs") return `# bento: the root filesystem is the host directory ${JSON.stringify(base.path)} (no Dockerfile form)\n`;
  if (base.type === "image") return "# bento: starts from an embedded image (toDockerfile() prints it as a stage)\n";
  return "";
}

function copySourceText(source: CopySource): string {
  switch (source.type) {
    case "stage":
      return source.name;
    case "ref":
      return source.ref;
    case "image":
      return "scratch";
    default: {
      const unknown: never = source;
      return String(unknown);
    }
  }
}

// Legacy `KEY value` keeps a value with spaces exactly; `KEY=value` pairs need one word per value.
function keyValues(pairs: readonly KeyValue[], escape: EscapeToken): string {
  const only = pairs.length === 1 ? pairs[0] : undefined;
  if (only !== undefined && printsAsLegacy(only, escape)) return `${only.key} ${only.value}`;
  return pairs.map(({ key, value }) => `${key}=${singleWordTemplate(value, escape)}`).join(" ");
}

function printsAsLegacy({ key, value }: KeyValue, escape: EscapeToken): boolean {
  const single = parseWords(`${key}=${value}`, escape);
  if (single.length === 1 && single[0] === `${key}=${value}`) return false;
  return value !== "" && value.trim() === value && !/[\r\n]/.test(value);
}

function pathList(paths: readonly string[]): string {
  const plain = paths.every((p) => p !== "" && !/\s/.test(p)) && !(paths[0] ?? "").startsWith("[");
  return plain ? paths.join(" ") : JSON.stringify(paths);
}

function commandText(command: CommandLine): string {
  return command.form === "exec" ? JSON.stringify(command.argv) : command.text;
}

// extractBuilderFlags removes quotes and backslashes from flag words, so values with spaces, quotes
// or backslashes are written in double quotes with those escaped.
function flagValue(value: string): string {
  return /[\s"'\\]/.test(value) || value === "" ? `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"` : value;
}

function boolFlag(name: string, value: boolean | undefined): string | undefined {
  if (value === undefined) return undefined;
  return value ? `--${name}` : `--${name}=false`;
}

function durationFlag(name: string, ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : `--${name}=${formatGoDurationMs(ms)}`;
}

function joinFlags(flags: readonly (string | undefined)[]): string {
  const present = flags.filter((f): f is string => f !== undefined);
  return present.length === 0 ? "" : present.join(" ") + " ";
}

function withHeredocs(line: string, heredocs: readonly Heredoc[] | undefined): string {
  if (heredocs === undefined || heredocs.length === 0) return line;
  return [line, ...heredocs.map((doc) => `${doc.content}${doc.name}`)].join("\n");
}

function scriptHeredoc(script: string): Heredoc {
  const lines = new Set(script.split("\n"));
  let name = "EOF";
  for (let i = 1; lines.has(name); i++) name = `EOF${i}`;
  return { name, content: script.endsWith("\n") ? script : script + "\n", expand: true, chomp: false };
}

function withRunEnv(command: CommandLine, env: readonly KeyValue[]): CommandLine {
  if (command.form === "exec") return { form: "exec", argv: ["env", ...env.map((e) => `${e.key}=${e.value}`), ...command.argv] };
  const exports = env.map((e) => `${e.key}=${shellQuote(e.value)}`).join(" ");
  return { form: "shell", text: `export ${exports} && ${command.text}` };
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
