/**
 * Argument parsing for the bento CLI: node's `util.parseArgs`, strict, with its errors turned into
 * {@link UsageError}s (exit code 125, as docker's) that name the option, and helpers for docker-style values.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { InvalidOptionError } from "../errors.js";
import { parsePortSpec, type PublishedPort } from "../network/port-spec.js";

/** Options of one command, in `util.parseArgs` form. */
export type OptionsConfig = NonNullable<ParseArgsConfig["options"]>;

/** What {@link parseCommandArgs} returns for options `T`: typed values and the positionals. */
export interface ParsedArgs<T extends OptionsConfig> {
  values: ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>>["values"];
  positionals: string[];
}

/** Bad command-line input: the CLI prints the message and the command's usage, and exits with 125. */
export class UsageError extends Error {
  /** The usage text of the command that was misused. */
  readonly usage: string;

  constructor(message: string, usage: string) {
    super(message);
    this.usage = usage;
    Object.defineProperty(this, "name", { value: "UsageError", enumerable: false });
  }
}

/** `-h` / `--help`, which every command takes. */
export const helpOption = { help: { type: "boolean", short: "h" } } as const;

function usageMessage(error: unknown): string {
  const code = (error as { code?: string }).code;
  const message = (error as Error).message;
  // Node quotes the option as "-n, --name <value>": keep the long name.
  const quoted = /'([^']+)'/
    .exec(message)?.[1]
    ?.replace(/ <value>$/, "")
    .split(", ")
    .pop();
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") return `unknown option ${quoted ?? message}`;
  if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") return `unexpected argument ${quoted ?? message}`;
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    if (/argument missing/.test(message)) return `option ${quoted ?? ""} needs a value`.replace("  ", " ");
    if (/does not take an argument/.test(message)) return `option ${quoted ?? ""} takes no value`.replace("  ", " ");
  }
  return message;
}

/**
 * Splits argv where the first positional argument begins: what comes before it are the
 * command's options; it and everything after belong to the container (`bento run IMAGE CMD...`),
 * so `bento run img sh -c "echo hi"` does not read `-c` as bento's. A `--` ends the options too.
 */
export function splitAtFirstPositional(args: readonly string[], options: OptionsConfig): { head: string[]; rest: string[] } {
  const takesValue = (o: OptionsConfig[string] | undefined) => o?.type === "string";
  const byShort = new Map(
    Object.values(options)
      .filter((o) => o.short !== undefined)
      .map((o) => [o.short!, o]),
  );
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") return { head: args.slice(0, i), rest: args.slice(i + 1) };
    if (arg.startsWith("--")) {
      if (!arg.includes("=") && takesValue(options[arg.slice(2)])) i++;
      continue;
    }
    if (arg.startsWith("-") && arg.length > 1) {
      // A group of short flags ("-af"); a value-taking one ends it, its value inline or next.
      for (let j = 1; j < arg.length; j++) {
        if (!takesValue(byShort.get(arg[j]!))) continue;
        if (j === arg.length - 1) i++;
        break;
      }
      continue;
    }
    return { head: args.slice(0, i), rest: args.slice(i) };
  }
  return { head: [...args], rest: [] };
}

/**
 * Parses a command's arguments strictly: unknown options and missing values are UsageErrors.
 * With `stopAtFirstPositional`, options end at the first positional argument (see
 * {@link splitAtFirstPositional}).
 */
export function parseCommandArgs<const T extends OptionsConfig>(args: readonly string[], options: T, usage: string, stopAtFirstPositional = false): ParsedArgs<T> {
  const { head, rest } = stopAtFirstPositional ? splitAtFirstPositional(args, options) : { head: [...args], rest: [] as string[] };
  try {
    const parsed = parseArgs({ args: head, options, allowPositionals: true, strict: true });
    return { values: parsed.values, positionals: [...parsed.positionals, ...rest] };
  } catch (error) {
    if (typeof (error as { code?: unknown }).code === "string" && (error as { code: string }).code.startsWith("ERR_PARSE_ARGS")) {
      throw new UsageError(usageMessage(error), usage);
    }
    throw error;
  }
}

/** Parses `K=V` pairs (`-e`, `--build-arg`); a bare `K` takes its value from `env`, as docker does. */
export function parseKeyValues(option: string, pairs: readonly string[] | undefined, usage: string, env: NodeJS.ProcessEnv = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs ?? []) {
    const eq = pair.indexOf("=");
    const key = eq < 0 ? pair : pair.slice(0, eq);
    if (key === "") throw new UsageError(`${option} "${pair}": expected KEY=VALUE`, usage);
    if (eq < 0) {
      const value = env[key];
      if (value !== undefined) out[key] = value;
      continue;
    }
    out[key] = pair.slice(eq + 1);
  }
  return out;
}

/**
 * Parses one `-p` value, docker's `[HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]` with ranges
 * (`8080`, `53/udp`, `18080:8080`, `0.0.0.0:8080:80`, `[::1]::8080`, `8000-8001:80-81`).
 */
export function parsePublish(value: string, usage: string): PublishedPort[] {
  try {
    return parsePortSpec("-p", value);
  } catch (error) {
    if (error instanceof InvalidOptionError) throw new UsageError(`-p "${value}": ${error.message.replace(/^-p: /, "")}`, usage);
    throw error;
  }
}

/** Parses `--tail`: a count of lines, or "all". */
export function parseTail(value: string | undefined, usage: string): number | undefined {
  if (value === undefined || value === "all") return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`--tail "${value}": expected a number of lines, or "all"`, usage);
  return Number(value);
}
