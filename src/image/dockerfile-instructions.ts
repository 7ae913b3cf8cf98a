/**
 * Syntax tree to plan: BuildKit's instruction layer (`frontend/dockerfile/instructions/parse.go`,
 * cited, not copied). Checks each instruction's arguments and flags, tracks stages (`FROM ... AS`,
 * `COPY --from`), keeps ARGs before the first FROM as global ARGs, and cuts the plan at a target stage.
 */
import { InvalidOptionError } from "../errors.js";
import type { DockerfileAst, DockerfileNode } from "./dockerfile-ast.js";
import { knownInstructions } from "./dockerfile-line-parsers.js";
import { parseGoDurationMs } from "./duration.js";
import { DockerfileSyntaxError } from "./errors.js";
import type { CommandLine, CopySource, ImageBase, ImagePlan, ImageStep, KeyValue, RunMount } from "./plan.js";
import { parseRunMount } from "./run-mount.js";

/** Options of {@link astToPlan}. */
export interface AstToPlanOptions {
  /** The file name errors mention. */
  file?: string;
  /** The stage to build: the plan ends with it. Default: the last stage. */
  target?: string;
}

/** A problem with one instruction; turned into a located {@link DockerfileSyntaxError}. */
class InstructionError extends Error {
  constructor(
    message: string,
    readonly expected?: string,
  ) {
    super(message);
  }
}

type FlagKind = "string" | "bool" | "strings";
type FlagValues = Record<string, string | boolean | string[] | undefined>;

const flagSpecs: Record<string, Record<string, FlagKind>> = {
  from: { platform: "string" },
  copy: { from: "string", chown: "string", chmod: "string", link: "bool", parents: "bool", exclude: "strings" },
  add: { chown: "string", chmod: "string", link: "bool", checksum: "string", "keep-git-dir": "bool", unpack: "bool", exclude: "strings" },
  run: { mount: "strings", network: "string", security: "string" },
  healthcheck: { interval: "string", timeout: "string", "start-period": "string", "start-interval": "string", retries: "string" },
};

/**
 * Converts a parsed Dockerfile into a plan. Throws {@link DockerfileSyntaxError} naming the file,
 * line, column and instruction for anything BuildKit would reject before building: unknown
 * instructions or flags, missing arguments, a step before the first FROM, bad stage names.
 *
 * @example
 * ```ts
 * const plan = astToPlan(parseDockerfileAst("FROM alpine AS base\nRUN make\n"));
 * plan.steps[1]; // { kind: "run", command: { form: "shell", text: "make" }, location: { line: 2, endLine: 2 } }
 * ```
 */
export function astToPlan(ast: DockerfileAst, options: AstToPlanOptions = {}): ImagePlan {
  const file = options.file ?? "Dockerfile";
  const stages: string[] = []; // lower-case names; "" for unnamed stages
  const steps: ImageStep[] = [];
  let targetEnd: number | undefined;
  for (const node of ast.children) {
    let step: ImageStep;
    try {
      if (node.keyword !== "from" && node.keyword !== "arg" && stages.length === 0 && node.known) {
        throw new InstructionError(`${node.value.toUpperCase()} before the first FROM: only ARG may come before FROM (no build stage in current context)`, "FROM <image> first");
      }
      step = toStep(node, stages, ast);
    } catch (error) {
      if (!(error instanceof InstructionError)) throw error;
      throw new DockerfileSyntaxError(error.message, {
        file,
        line: node.startLine,
        column: node.column,
        instruction: node.value.toUpperCase(),
        ...(error.expected === undefined ? {} : { expected: error.expected }),
      });
    }
    step.location = { line: node.startLine, endLine: node.endLine };
    if (step.kind === "from") {
      if (targetEnd === undefined && options.target !== undefined && stages.length > 0 && stages[stages.length - 1] === options.target.toLowerCase()) targetEnd = steps.length;
      stages.push(step.stage ?? "");
    }
    steps.push(step);
  }
  if (options.target !== undefined && !stages.includes(options.target.toLowerCase())) {
    const names = stages.filter((s) => s !== "");
    throw new InvalidOptionError("target", `target stage "${options.target}" could not be found in ${file}; its stages are ${names.length > 0 ? names.join(", ") : "unnamed (name them with FROM ... AS name)"}`);
  }
  const plan: ImagePlan = { version: 1, steps: targetEnd === undefined ? steps : steps.slice(0, targetEnd) };
  if (ast.escape !== "\\") plan.escape = ast.escape;
  if (ast.directives.syntax !== undefined) plan.syntax = ast.directives.syntax;
  return plan;
}

function toStep(node: DockerfileNode, stages: readonly string[], ast: DockerfileAst): ImageStep {
  const keyword = node.keyword;
  if (!node.known) throw new InstructionError(`unknown instruction: ${node.value}${suggest(keyword)}`, "a Dockerfile instruction such as FROM, RUN, COPY or ENV");
  const flags = parseFlags(node, flagSpecs[keyword] ?? {});
  const args = node.args.filter((a): a is string => typeof a === "string");
  const upper = keyword.toUpperCase();
  switch (keyword) {
    case "from":
      return fromStep(args, flags, stages);
    case "arg": {
      if (args.length === 0) throw new InstructionError("ARG requires at least one argument", "ARG name[=default]");
      return {
        kind: "arg",
        args: args.map((word) => {
          const eq = word.indexOf("=");
          const name = eq < 0 ? word : word.slice(0, eq);
          if (name === "") throw new InstructionError("ARG names can not be blank", "ARG name[=default]");
          return eq < 0 ? { name } : { name, default: word.slice(eq + 1) };
        }),
      };
    }
    case "env":
      return { kind: "env", vars: keyValues(args, upper) };
    case "label":
      return { kind: "label", labels: keyValues(args, upper) };
    case "workdir":
      return { kind: "workdir", path: exactlyOne(args, upper, "WORKDIR /path") };
    case "user":
      return { kind: "user", user: exactlyOne(args, upper, "USER user[:group]") };
    case "stopsignal":
      return { kind: "stopSignal", signal: exactlyOne(args, upper, "STOPSIGNAL SIGTERM") };
    case "maintainer":
      return { kind: "maintainer", name: exactlyOne(args, upper, "MAINTAINER name") };
    case "expose":
      if (args.length === 0) throw new InstructionError("EXPOSE requires at least one argument", "EXPOSE 8080 [53/udp ...]");
      return { kind: "expose", ports: args };
    case "volume":
      if (args.length === 0) throw new InstructionError("VOLUME requires at least one argument", "VOLUME /path");
      if (args.some((a) => a.trim() === "")) throw new InstructionError("VOLUME specified can not be an empty string", "VOLUME /path");
      return { kind: "volume", paths: args };
    case "copy":
    case "add":
      return copyOrAddStep(node, args, flags, stages);
    case "run": {
      if (args.length === 0) throw new InstructionError("RUN requires at least one argument", 'RUN <command> or RUN ["executable", "arg"]');
      const step: ImageStep = { kind: "run", command: commandOf(node, args) };
      const mounts = flags.mount as string[] | undefined;
      if (mounts !== undefined && mounts.length > 0) {
        step.mounts = mounts.map((m): RunMount => {
          try {
            return parseRunMount(m);
          } catch (error) {
            throw new InstructionError((error as Error).message, "--mount=type=cache|bind|tmpfs|secret|ssh,target=/path,...");
          }
        });
      }
      const network = flags.network as string | undefined;
      if (network !== undefined) {
        if (network !== "default" && network !== "none" && network !== "host") throw new InstructionError(`unsupported network mode ${JSON.stringify(network)}`, "--network=default, none or host");
        step.network = network;
      }
      const security = flags.security as string | undefined;
      if (security !== undefined) {
        if (security !== "sandbox" && security !== "insecure") throw new InstructionError(`unsupported security mode ${JSON.stringify(security)}`, "--security=sandbox or insecure");
        step.security = security;
      }
      if (node.heredocs.length > 0) step.heredocs = node.heredocs.map((h) => ({ ...h }));
      return step;
    }
    case "cmd":
      return { kind: "cmd", command: node.json ? { form: "exec", argv: args } : { form: "shell", text: args[0] ?? "" } };
    case "entrypoint":
      return { kind: "entrypoint", command: node.json ? { form: "exec", argv: args } : { form: "shell", text: args[0] ?? "" } };
    case "shell":
      if (!node.json) throw new InstructionError("SHELL requires the arguments to be in JSON form", 'SHELL ["executable", "parameters"]');
      if (args.length === 0) throw new InstructionError("SHELL requires at least one argument", 'SHELL ["executable", "parameters"]');
      return { kind: "shell", argv: args };
    case "healthcheck":
      return healthcheckStep(node, args, flags);
    case "onbuild":
      return onbuildStep(node, stages, ast);
    default:
      throw new InstructionError(`unknown instruction: ${node.value}`);
  }
}

function fromStep(args: string[], flags: FlagValues, stages: readonly string[]): ImageStep {
  if (args.length !== 1 && args.length !== 3) throw new InstructionError("FROM requires either one or three arguments", "FROM <image> [AS <name>]");
  const step: ImageStep = { kind: "from", base: baseOf(args[0] as string, stages) };
  if (args.length === 3) {
    if ((args[1] as string).toLowerCase() !== "as") throw new InstructionError(`expected AS as the second argument, got ${JSON.stringify(args[1])}`, "FROM <image> AS <name>");
    const name = (args[2] as string).toLowerCase();
    if (!/^[a-z][a-z0-9\-_.]*$/.test(name)) throw new InstructionError(`invalid name for build stage: ${JSON.stringify(args[2])}, name can't start with a number or contain symbols`, "a stage name such as build or base-1");
    if (stages.includes(name)) throw new InstructionError(`duplicate stage name ${JSON.stringify(name)}`, "a stage name not used before");
    step.stage = name;
  }
  const platform = flags.platform as string | undefined;
  if (platform !== undefined) step.platform = platform;
  return step;
}

// FROM scratch, FROM <earlier stage> (case-insensitive), else an image reference. A name with
// variables stays a reference; BuildKit checks stage names again after expanding it.
function baseOf(name: string, stages: readonly string[]): ImageBase {
  if (name === "scratch") return { type: "scratch" };
  const lower = name.toLowerCase();
  if (!name.includes("$") && lower !== "" && stages.includes(lower)) return { type: "stage", name: lower };
  return { type: "ref", ref: name };
}

function copySourceOf(from: string, stages: readonly string[]): CopySource {
  const lower = from.toLowerCase();
  if (!from.includes("$") && stages.includes(lower) && lower !== "") return { type: "stage", name: lower };
  if (/^\d+$/.test(from) && Number(from) < stages.length) return { type: "stage", name: from };
  return { type: "ref", ref: from };
}

function copyOrAddStep(node: DockerfileNode, args: string[], flags: FlagValues, stages: readonly string[]): ImageStep {
  const upper = node.keyword.toUpperCase();
  if (args.length < 2) {
    throw new InstructionError(`${upper} requires at least two arguments, but only ${args.length === 0 ? "none was" : "one was"} provided. Destination could not be determined.`, `${upper} <src>... <dest>`);
  }
  const sources = args.slice(0, -1);
  const dest = args[args.length - 1] as string;
  const heredocs = node.heredocs.map((h) => ({ ...h }));
  const common = {
    ...(flags.chown === undefined ? {} : { chown: flags.chown as string }),
    ...(flags.chmod === undefined ? {} : { chmod: flags.chmod as string }),
    ...(flags.link === undefined ? {} : { link: flags.link as boolean }),
    ...(flags.exclude === undefined ? {} : { exclude: flags.exclude as string[] }),
    ...(heredocs.length === 0 ? {} : { heredocs }),
  };
  if (node.keyword === "copy") {
    return {
      kind: "copy",
      sources,
      dest,
      ...(flags.from === undefined ? {} : { from: copySourceOf(flags.from as string, stages) }),
      ...common,
      ...(flags.parents === undefined ? {} : { parents: flags.parents as boolean }),
    };
  }
  return {
    kind: "add",
    sources,
    dest,
    ...common,
    ...(flags.checksum === undefined ? {} : { checksum: flags.checksum as string }),
    ...(flags["keep-git-dir"] === undefined ? {} : { keepGitDir: flags["keep-git-dir"] as boolean }),
    ...(flags.unpack === undefined ? {} : { unpack: flags.unpack as boolean }),
  };
}

function healthcheckStep(node: DockerfileNode, args: string[], flags: FlagValues): ImageStep {
  if (args.length === 0) throw new InstructionError("HEALTHCHECK requires at least one argument", "HEALTHCHECK [options] CMD <command>, or HEALTHCHECK NONE");
  const type = (args[0] as string).toUpperCase();
  const rest = args.slice(1);
  if (type === "NONE") {
    if (rest.length > 0) throw new InstructionError("HEALTHCHECK NONE takes no arguments", "HEALTHCHECK NONE");
    if (node.flags.length > 0) throw new InstructionError("HEALTHCHECK NONE takes no flags", "HEALTHCHECK NONE");
    return { kind: "healthcheck", test: ["NONE"] };
  }
  if (type !== "CMD") throw new InstructionError(`Unknown type ${JSON.stringify(type)} in HEALTHCHECK (try CMD)`, "HEALTHCHECK [options] CMD <command>");
  if (rest.length === 0 || (!node.json && rest[0] === "")) throw new InstructionError("Missing command after HEALTHCHECK CMD", "HEALTHCHECK [options] CMD <command>");
  const step: ImageStep = { kind: "healthcheck", test: node.json ? ["CMD", ...rest] : ["CMD-SHELL", rest[0] as string] };
  const durations = { interval: "intervalMs", timeout: "timeoutMs", "start-period": "startPeriodMs", "start-interval": "startIntervalMs" } as const;
  for (const [flag, key] of Object.entries(durations)) {
    const text = flags[flag] as string | undefined;
    if (text === undefined) continue;
    const ms = parseGoDurationMs(text);
    if (ms === undefined) throw new InstructionError(`--${flag}: invalid duration ${JSON.stringify(text)}`, `--${flag}=30s (a number and a unit: ms, s, m, h)`);
    if (ms !== 0 && ms < 1) throw new InstructionError(`--${flag}: ${JSON.stringify(text)} cannot be less than 1ms`, `--${flag}=0s (the default) or at least 1ms`);
    step[key] = ms;
  }
  const retries = flags.retries as string | undefined;
  if (retries !== undefined) {
    if (!/^[+-]?\d+$/.test(retries) || Math.abs(Number(retries)) > 2 ** 31 - 1) throw new InstructionError(`--retries: invalid number ${JSON.stringify(retries)}`, "--retries=3");
    if (Number(retries) < 0) throw new InstructionError("--retries cannot be negative", "--retries=3");
    step.retries = Number(retries);
  }
  return step;
}

const forbiddenTriggers: Record<string, string> = {
  onbuild: "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed",
  from: "FROM isn't allowed as an ONBUILD trigger",
  maintainer: "MAINTAINER isn't allowed as an ONBUILD trigger",
};

function onbuildStep(node: DockerfileNode, stages: readonly string[], ast: DockerfileAst): ImageStep {
  const trigger = node.args[0];
  if (trigger === undefined || typeof trigger === "string") throw new InstructionError("ONBUILD requires at least one argument", "ONBUILD <instruction>");
  const forbidden = forbiddenTriggers[trigger.keyword];
  if (forbidden !== undefined) throw new InstructionError(forbidden, "ONBUILD RUN|COPY|ENV|...");
  // The trigger must itself be a valid instruction, though it only runs in images built FROM this one.
  toStep(trigger, stages.length > 0 ? stages : [""], ast);
  let expression = node.original.replace(/^\s*ONBUILD\s*/i, "");
  for (const doc of node.heredocs) expression += `\n${doc.content}${doc.name}`;
  return { kind: "onbuild", instruction: expression };
}

function commandOf(node: DockerfileNode, args: string[]): CommandLine {
  return node.json ? { form: "exec", argv: args } : { form: "shell", text: args[0] ?? "" };
}

function keyValues(args: string[], upper: string): KeyValue[] {
  if (args.length === 0) throw new InstructionError(`${upper} requires at least one argument`, `${upper} name=value`);
  const pairs: KeyValue[] = [];
  for (let i = 0; i < args.length; i += 3) {
    const key = args[i] as string;
    if (key === "") throw new InstructionError(`${upper} names can not be blank`, `${upper} name=value`);
    pairs.push({ key, value: args[i + 1] as string });
  }
  return pairs;
}

function exactlyOne(args: string[], upper: string, expected: string): string {
  if (args.length !== 1) throw new InstructionError(`${upper} requires exactly one argument`, expected);
  return args[0] as string;
}

// BuildKit's BFlags: `--name=value` or `--name` for booleans, each once (lists may repeat).
function parseFlags(node: DockerfileNode, spec: Record<string, FlagKind>): FlagValues {
  const values: FlagValues = {};
  for (const flag of node.flags) {
    if (!flag.startsWith("--")) throw new InstructionError(`flag should start with --: ${flag}`);
    const body = flag.slice(2);
    const eq = body.indexOf("=");
    const name = eq < 0 ? body : body.slice(0, eq);
    const value = eq < 0 ? undefined : body.slice(eq + 1);
    const kind = spec[name];
    if (kind === undefined) {
      const allowed = Object.keys(spec).map((f) => `--${f}`);
      throw new InstructionError(`unknown flag: --${name}`, allowed.length > 0 ? `one of ${allowed.join(", ")}` : `no flags on ${node.value.toUpperCase()}`);
    }
    if (kind !== "strings" && values[name] !== undefined) throw new InstructionError(`duplicate flag specified: --${name}`);
    if (kind === "bool") {
      const text = (value ?? "true").toLowerCase();
      if (text !== "true" && text !== "false") throw new InstructionError(`expecting boolean value for flag --${name}, not: ${value}`, `--${name} or --${name}=false`);
      values[name] = text === "true";
    } else {
      if (value === undefined) throw new InstructionError(`missing a value on flag: --${name}`, `--${name}=<value>`);
      if (kind === "strings") values[name] = [...((values[name] as string[] | undefined) ?? []), value];
      else values[name] = value;
    }
  }
  return values;
}

function suggest(keyword: string): string {
  let best: string | undefined;
  let bestDistance = 3;
  for (const known of knownInstructions()) {
    // The distance is at least the difference in length: a long word is near nothing, and
    // skipping it keeps a 10 MB unknown keyword from costing seconds.
    if (Math.abs(keyword.length - known.length) >= bestDistance) continue;
    const d = editDistance(keyword, known);
    if (d < bestDistance) {
      best = known;
      bestDistance = d;
    }
  }
  return best === undefined ? "" : ` (did you mean ${best.toUpperCase()}?)`;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] as number;
      row[j] = Math.min(above + 1, (row[j - 1] as number) + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length] as number;
}
