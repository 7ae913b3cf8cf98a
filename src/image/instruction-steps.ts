/**
 * The plan step of each `Image` method whose arguments take more than one check (ARG, COPY, ADD,
 * RUN, EXPOSE, VOLUME, SHELL, STOPSIGNAL, ONBUILD). Each builder checks every argument and
 * throws `InvalidOptionError` naming it and the fix; `Image` only appends what it returns.
 */
import { InvalidOptionError } from "../errors.js";
import { parseOnbuildTrigger } from "./dockerfile.js";
import { toDockerfile } from "./dockerfile-printer.js";
import { DockerfileSyntaxError } from "./errors.js";
import { checkTemplate, chmodOf, chownOf, commandOf, describe, type AddOptions, type CopyOptions, type RunOptions } from "./image-steps.js";
import type { CopySource, ImageStep, RunStep } from "./plan.js";
import { formatRunMount, parseRunMount } from "./run-mount.js";
import type { EscapeToken } from "./shell-lexer.js";

export function argStepOf(name: unknown, defaultValue: unknown, escape: EscapeToken): ImageStep {
  if (typeof name !== "string" || name === "" || /[\s=]/.test(name)) throw new InvalidOptionError("arg.name", "expected a name with no spaces and no '='");
  const arg = defaultValue === undefined ? { name } : { name, default: checkTemplate("arg.default", defaultValue, escape, { allowEmpty: true }) };
  return { kind: "arg", args: [arg] };
}

/** `copySourceOf` turns `options.from` (a stage name, a reference or an Image) into the plan's source. */
export function copyStepOf(src: unknown, dst: unknown, options: CopyOptions, escape: EscapeToken, copySourceOf: (from: unknown) => CopySource): ImageStep {
  const sources = sourcesOf("copy", src, escape);
  const step: ImageStep = { kind: "copy", sources, dest: checkTemplate("copy.dst", dst, escape) };
  if (options.from !== undefined) step.from = copySourceOf(options.from);
  if (options.chown !== undefined) step.chown = chownOf("copy.chown", options.chown, escape);
  if (options.chmod !== undefined) step.chmod = chmodOf("copy.chmod", options.chmod);
  if (options.link !== undefined) step.link = bool("copy.link", options.link);
  if (options.parents !== undefined) step.parents = bool("copy.parents", options.parents);
  if (options.exclude !== undefined) step.exclude = sourcesOf("copy.exclude", options.exclude, escape);
  return step;
}

export function addStepOf(src: unknown, dst: unknown, options: AddOptions, escape: EscapeToken): ImageStep {
  const step: ImageStep = { kind: "add", sources: sourcesOf("add", src, escape), dest: checkTemplate("add.dst", dst, escape) };
  if (options.chown !== undefined) step.chown = chownOf("add.chown", options.chown, escape);
  if (options.chmod !== undefined) step.chmod = chmodOf("add.chmod", options.chmod);
  if (options.link !== undefined) step.link = bool("add.link", options.link);
  if (options.checksum !== undefined) {
    if (typeof options.checksum !== "string" || !/^sha256:[0-9a-f]{64}$/.test(options.checksum)) throw new InvalidOptionError("add.checksum", "expected sha256:<64 hex digits>");
    step.checksum = options.checksum;
  }
  if (options.keepGitDir !== undefined) step.keepGitDir = bool("add.keepGitDir", options.keepGitDir);
  if (options.unpack !== undefined) step.unpack = bool("add.unpack", options.unpack);
  if (options.exclude !== undefined) step.exclude = sourcesOf("add.exclude", options.exclude, escape);
  return step;
}

export function runStepOf(command: unknown, options: RunOptions): RunStep {
  const step: RunStep = { kind: "run", command: commandOf("run.command", command, { allowNewlines: true }) };
  if (options.env !== undefined) {
    if (typeof options.env !== "object" || options.env === null) throw new InvalidOptionError("run.env", "expected a record of strings");
    step.env = Object.entries(options.env).map(([key, value]) => {
      if (key === "" || /[\s=]/.test(key)) throw new InvalidOptionError(`run.env.${key}`, "a name must be non-empty, with no spaces and no '='");
      if (typeof value !== "string") throw new InvalidOptionError(`run.env.${key}`, `expected a string, got ${describe(value)}`);
      return { key, value };
    });
  }
  if (options.network !== undefined) {
    if (!["default", "none", "host"].includes(options.network)) throw new InvalidOptionError("run.network", 'expected "default", "none" or "host"');
    step.network = options.network;
  }
  if (options.security !== undefined) {
    if (!["sandbox", "insecure"].includes(options.security)) throw new InvalidOptionError("run.security", 'expected "sandbox" or "insecure"');
    step.security = options.security;
  }
  if (options.mounts !== undefined) {
    if (!Array.isArray(options.mounts)) throw new InvalidOptionError("run.mounts", "expected an array of mounts");
    step.mounts = options.mounts.map((m, i) => {
      try {
        // The CSV round trip checks every field the way a Dockerfile's --mount is checked.
        return parseRunMount(formatRunMount(m));
      } catch (error) {
        throw new InvalidOptionError(`run.mounts[${i}]`, (error as Error).message);
      }
    });
  }
  return step;
}

export function exposeStepOf(port: unknown, escape: EscapeToken): ImageStep {
  let text: string;
  if (typeof port === "number") {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InvalidOptionError("expose", `expected a port between 1 and 65535, got ${port}`);
    text = String(port);
  } else {
    text = checkTemplate("expose", port, escape);
    if (!text.includes("$") && !/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/i.test(text)) throw new InvalidOptionError("expose", `expected a port such as 8080, "53/udp" or "8000-8010/tcp", got ${JSON.stringify(text)}`);
  }
  return { kind: "expose", ports: [text] };
}

export function volumeStepOf(paths: unknown[], escape: EscapeToken): ImageStep {
  if (paths.length === 0) throw new InvalidOptionError("volume", "expected at least one path");
  return { kind: "volume", paths: paths.map((p, i) => checkTemplate(`volume[${i}]`, p, escape)) };
}

export function shellStepOf(argv: unknown): ImageStep {
  if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === "string" && a !== "")) {
    throw new InvalidOptionError("shell", 'expected a non-empty array of strings, such as ["/bin/bash", "-c"]');
  }
  return { kind: "shell", argv: [...argv] };
}

export function stopSignalStepOf(signal: unknown, escape: EscapeToken): ImageStep {
  const text = checkTemplate("stopSignal", signal, escape);
  if (!text.includes("$") && !/^(SIG)?[A-Z][A-Z0-9+-]*$|^\d+$/i.test(text)) throw new InvalidOptionError("stopSignal", `expected a signal name such as SIGTERM or a number, got ${JSON.stringify(text)}`);
  return { kind: "stopSignal", signal: text };
}

/** An ONBUILD step from one line of Dockerfile text, checked as the Dockerfile parser would. */
export function onbuildStepOf(instruction: unknown): ImageStep {
  if (typeof instruction !== "string" || instruction.trim() === "") throw new InvalidOptionError("onbuild", 'expected Dockerfile text such as "RUN make" or a function');
  if (/[\r\n]/.test(instruction)) throw new InvalidOptionError("onbuild", "an ONBUILD trigger is one line");
  try {
    parseOnbuildTrigger(instruction);
  } catch (error) {
    if (!(error instanceof DockerfileSyntaxError)) throw error;
    throw new InvalidOptionError("onbuild", `${error.reason}${error.expected === undefined ? "" : ` (expected ${error.expected})`}`);
  }
  return { kind: "onbuild", instruction: instruction.trim() };
}

/** The one Dockerfile line of a step, for an ONBUILD trigger given as a function. */
export function onbuildText(step: ImageStep, escape: EscapeToken): string {
  const text = toDockerfile({ version: 1, escape, steps: [{ kind: "from", base: { type: "scratch" } }, step] })
    .split("\n")
    .filter((line) => line !== "" && !line.startsWith("#"))
    .slice(1);
  if (text.length !== 1) throw new InvalidOptionError("onbuild", "a step with a multi-line form (such as a multi-line RUN script) cannot be an ONBUILD trigger");
  return text[0] as string;
}

function sourcesOf(option: string, src: unknown, escape: EscapeToken): string[] {
  const list = typeof src === "string" ? [src] : src;
  if (!Array.isArray(list) || list.length === 0) throw new InvalidOptionError(option, "expected a path or a non-empty array of paths");
  return list.map((s, i) => checkTemplate(list.length === 1 ? option : `${option}[${i}]`, s, escape));
}

function bool(option: string, value: unknown): boolean {
  if (typeof value !== "boolean") throw new InvalidOptionError(option, `expected true or false, got ${describe(value)}`);
  return value;
}
