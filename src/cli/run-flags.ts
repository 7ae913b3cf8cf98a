/**
 * The `bento run` flags beyond the everyday ones (see run.ts), with docker's names: resources,
 * privileges, the root filesystem, labels, an env file, the entrypoint and the network mode.
 */
import { readFileSync } from "node:fs";
import type { TmpfsMount } from "../container/mounts.js";
import type { ContainerOptions } from "../container/options.js";
import { joinNamedNetwork } from "../network/named-network.js";
import { parseKeyValues, UsageError, type OptionsConfig } from "./args.js";

/** Their lines in `bento run --help`. */
export const extraRunUsage = `      --env-file FILE       read KEY=VALUE lines from a file (# comments; KEY alone: from this environment)
      --entrypoint CMD      the executable to run instead of the image's entrypoint ("" clears it)
      --network NETWORK     none (default: its own namespace with only lo), host, slirp4netns or
                            pasta (its own namespace with a route out through that helper, not
                            to the host's loopback), or the name of a network (bento network
                            create): containers on it reach each other by name
      --network-alias NAME  another name the container has on its network
  -m, --memory BYTES        memory limit, as 256m or 1g
      --cpus N              CPUs it may use, as 0.5 or 2
      --pids-limit N        the most processes and threads it may have
      --init                bento's init is PID 1, reaping zombies and forwarding signals (bento's default)
      --read-only           mount the root filesystem read-only
      --tmpfs PATH[:OPTS]   mount a tmpfs (OPTS: size=64m, mode=1777, uid=N, gid=N, ro), e.g. /run:size=16m
      --cap-add CAP         add a capability (CAP_NET_ADMIN or NET_ADMIN; ALL for every one)
      --cap-drop CAP        drop a capability (ALL for every one)
  -l, --label KEY=VALUE     set a label on the container
`;

/** Their definitions, for `util.parseArgs`. */
export const extraRunOptions = {
  "env-file": { type: "string", multiple: true },
  entrypoint: { type: "string" },
  network: { type: "string" },
  "network-alias": { type: "string", multiple: true },
  memory: { type: "string", short: "m" },
  cpus: { type: "string" },
  "pids-limit": { type: "string" },
  init: { type: "boolean" },
  "read-only": { type: "boolean" },
  tmpfs: { type: "string", multiple: true },
  "cap-add": { type: "string", multiple: true },
  "cap-drop": { type: "string", multiple: true },
  label: { type: "string", short: "l", multiple: true },
} as const satisfies OptionsConfig;

interface ExtraRunValues {
  "env-file"?: string[];
  entrypoint?: string;
  network?: string;
  "network-alias"?: string[];
  memory?: string;
  cpus?: string;
  "pids-limit"?: string;
  init?: boolean;
  "read-only"?: boolean;
  tmpfs?: string[];
  "cap-add"?: string[];
  "cap-drop"?: string[];
  label?: string[];
}

/** docker's --env-file: KEY=VALUE lines, taken as written (no quotes); # comments; a bare KEY from `env`. */
export function readEnvFile(file: string, usage: string, env: NodeJS.ProcessEnv): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new UsageError(`--env-file "${file}": ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message}`, usage);
  }
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "" && !l.trimStart().startsWith("#"));
  return parseKeyValues(`--env-file ${file}`, lines, usage, env);
}

/** A --tmpfs value: PATH, or PATH:size=…,mode=…,uid=…,gid=…,ro (uid and gid default to 0, as docker's). */
function tmpfsMount(value: string, usage: string): TmpfsMount {
  const [target = "", opts] = value.split(/:(.*)/s);
  const mount: TmpfsMount = { tmpfs: target };
  const ids: { uid?: string; gid?: string } = {};
  for (const opt of opts ? opts.split(",") : []) {
    const [key, v = ""] = opt.split("=");
    const size = /^(\d+)([kmg]?)$/i.exec(v);
    if (key === "size" && size) mount.sizeBytes = Number(size[1]) * 1024 ** "_kmg".indexOf((size[2] || "_").toLowerCase());
    else if (key === "mode" && /^[0-7]{3,4}$/.test(v)) mount.mode = Number.parseInt(v, 8);
    else if ((key === "uid" || key === "gid") && /^\d+$/.test(v)) ids[key] = v;
    else if (key === "ro" || key === "rw") mount.readonly = key === "ro";
    else throw new UsageError(`--tmpfs "${value}": "${opt}" is not understood; use size=64m, mode=1777, uid=1000, gid=1000, ro or rw`, usage);
  }
  if (ids.uid !== undefined || ids.gid !== undefined) mount.owner = `${ids.uid ?? 0}:${ids.gid ?? 0}`;
  return mount;
}

function positiveNumber(option: string, value: string, usage: string, integer: boolean): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new UsageError(`${option} "${value}" must be a ${integer ? "whole " : ""}number above 0`, usage);
  return n;
}

/**
 * Adds what the extra flags ask for to `options` (values the other flags set, such as -e, stay
 * first: the env file's come before them, as docker reads them).
 */
export function applyExtraRunFlags(values: ExtraRunValues, options: ContainerOptions, usage: string, env: NodeJS.ProcessEnv): void {
  if (values["env-file"]) options.env = { ...Object.assign({}, ...values["env-file"].map((f) => readEnvFile(f, usage, env))), ...options.env };
  if (values.entrypoint !== undefined) options.entrypoint = values.entrypoint === "" ? [] : [values.entrypoint];
  const network = values.network;
  const mode = network === "none" || network === "host" || network === "slirp4netns" || network === "pasta";
  if (values["network-alias"] && (network === undefined || mode)) {
    throw new UsageError("--network-alias needs --network NAME: a network made by bento network create", usage);
  }
  // A named network's keeper is found now, before anything else (rootless, its user namespace is this process's).
  if (network === "bridge") throw new UsageError('--network "bridge": bento has no default bridge network; make one (bento network create NAME) and run with --network NAME', usage);
  if (mode) options.network = network;
  else if (network !== undefined) options.network = joinNamedNetwork(network);
  if (values["network-alias"]) options.aliases = values["network-alias"];
  const resources: NonNullable<ContainerOptions["resources"]> = {};
  if (values.memory !== undefined) resources.memory = values.memory;
  if (values.cpus !== undefined) resources.cpus = positiveNumber("--cpus", values.cpus, usage, false);
  if (values["pids-limit"] !== undefined) resources.pids = positiveNumber("--pids-limit", values["pids-limit"], usage, true);
  if (Object.keys(resources).length > 0) options.resources = resources;
  if (values.init) options.init = true;
  if (values["read-only"]) options.readonlyRootfs = true;
  if (values.tmpfs) options.mounts = [...(options.mounts ?? []), ...values.tmpfs.map((t) => tmpfsMount(t, usage))];
  if (values["cap-add"]) options.capAdd = values["cap-add"];
  if (values["cap-drop"]) options.capDrop = values["cap-drop"];
  if (values.label)
    options.labels = parseKeyValues(
      "--label",
      values.label.map((l) => (l.includes("=") ? l : `${l}=`)),
      usage,
    );
}
