/**
 * Docker-format seccomp profiles (the JSON `docker run --security-opt seccomp=` reads), resolved
 * for one container: the `includes`/`excludes` conditions are decided here against the
 * container's capabilities, the machine's architecture and kernel, so the addon gets plain rules
 * to compile. Unsupported or malformed input is an error naming the field.
 */
import { release } from "node:os";
import { InvalidOptionError } from "../../errors.js";
import { kernelVersion, versionAtLeast } from "../kernel-version.js";

/**
 * One argument comparison of a Docker profile rule.
 *
 * @example
 * ```ts
 * const notVsock: DockerSeccompArg = { index: 0, value: 40, op: "SCMP_CMP_NE" }; // socket(AF_VSOCK) excluded
 * ```
 */
export interface DockerSeccompArg {
  /** The system call argument, 0 to 5. */
  index: number;
  /** The value compared with (for SCMP_CMP_MASKED_EQ: the mask). */
  value: number | bigint;
  /** For SCMP_CMP_MASKED_EQ: the value the masked argument must equal. */
  valueTwo?: number | bigint;
  /** The comparison. */
  op: "SCMP_CMP_NE" | "SCMP_CMP_LT" | "SCMP_CMP_LE" | "SCMP_CMP_EQ" | "SCMP_CMP_GE" | "SCMP_CMP_GT" | "SCMP_CMP_MASKED_EQ";
}

/**
 * The conditions of a rule (`includes`: all must hold; `excludes`: any one excludes it).
 *
 * @example
 * ```ts
 * const adminOnly: DockerSeccompFilter = { caps: ["CAP_SYS_ADMIN"] };
 * ```
 */
export interface DockerSeccompFilter {
  /** Capabilities, any of which the container has ("CAP_SYS_ADMIN"). */
  caps?: string[];
  /** Go architecture names, any of which is this machine's ("amd64", "arm64"). */
  arches?: string[];
  /** The lowest kernel version, such as "4.8". */
  minKernel?: string;
}

/**
 * One rule of a Docker profile: an action for some system calls, optionally only for some
 * argument values or under conditions.
 *
 * @example
 * ```ts
 * const noMkdir: DockerSeccompRule = { names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 13 };
 * ```
 */
export interface DockerSeccompRule {
  /** The system calls (names unknown to this machine are skipped, as Docker skips them). */
  names?: string[];
  /** The older single-name form. */
  name?: string;
  /** SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, SCMP_ACT_TRAP, SCMP_ACT_LOG or SCMP_ACT_TRACE. */
  action: string;
  /** The errno of SCMP_ACT_ERRNO (default EPERM), or the data of SCMP_ACT_TRACE. */
  errnoRet?: number;
  /** Argument comparisons, all of which must hold. */
  args?: DockerSeccompArg[] | null;
  /** The rule applies only when these hold. */
  includes?: DockerSeccompFilter;
  /** The rule does not apply when any of these holds. */
  excludes?: DockerSeccompFilter;
  /** Free text, ignored. */
  comment?: string;
}

/**
 * A seccomp profile in Docker's JSON format (`docker run --security-opt seccomp=profile.json`).
 *
 * @example
 * ```ts
 * const profile: DockerSeccompProfile = JSON.parse(readFileSync("profile.json", "utf8"));
 * await new Container(image, { seccomp: profile }).start();
 * ```
 */
export interface DockerSeccompProfile {
  /** The action for every system call no rule names, such as "SCMP_ACT_ERRNO". */
  defaultAction: string;
  /** The errno of a default SCMP_ACT_ERRNO (default EPERM). */
  defaultErrnoRet?: number;
  /** Architectures the filter accepts besides the native one (SCMP_ARCH_X86 ...). */
  architectures?: string[];
  /** Per native architecture, the companion architectures to accept (x86 and x32 beside x86_64). */
  archMap?:
    | {
        /** A native architecture, such as SCMP_ARCH_X86_64. */
        architecture: string;
        /** Its companions, such as SCMP_ARCH_X86 and SCMP_ARCH_X32. */
        subArchitectures: string[];
      }[]
    | null;
  /** The rules, in order. */
  syscalls?: DockerSeccompRule[] | null;
}

/** A profile resolved for one container: what the addon compiles. */
export interface SeccompFilter {
  defaultAction: number;
  badArchAction: number;
  architectures: string[];
  rules: { syscall: string; action: number; args: { index: number; op: number; value: bigint; valueTwo: bigint }[] }[];
}

// Kernel SECCOMP_RET_* values (linux/seccomp.h); errno and trace data go in the low 16 bits.
const ret = { KILL_PROCESS: 0x80000000, KILL_THREAD: 0, TRAP: 0x00030000, ERRNO: 0x00050000, TRACE: 0x7ff00000, LOG: 0x7ffc0000, ALLOW: 0x7fff0000 };
const ops: Record<DockerSeccompArg["op"], number> = {
  SCMP_CMP_NE: 1,
  SCMP_CMP_LT: 2,
  SCMP_CMP_LE: 3,
  SCMP_CMP_EQ: 4,
  SCMP_CMP_GE: 5,
  SCMP_CMP_GT: 6,
  SCMP_CMP_MASKED_EQ: 7,
};
const EPERM = 1;
// Docker's architecture names (SCMP_ARCH_*) -> libseccomp's; Go's names for `includes.arches`.
const archNames: Record<string, string> = {
  SCMP_ARCH_X86_64: "x86_64",
  SCMP_ARCH_X86: "x86",
  SCMP_ARCH_X32: "x32",
  SCMP_ARCH_AARCH64: "aarch64",
  SCMP_ARCH_ARM: "arm",
  SCMP_ARCH_RISCV64: "riscv64",
  SCMP_ARCH_PPC64LE: "ppc64le",
  SCMP_ARCH_S390X: "s390x",
  SCMP_ARCH_S390: "s390",
};
const nativeArch: Record<string, string> = { x64: "SCMP_ARCH_X86_64", arm64: "SCMP_ARCH_AARCH64", riscv64: "SCMP_ARCH_RISCV64", ppc64: "SCMP_ARCH_PPC64LE", s390x: "SCMP_ARCH_S390X" };
const goArch: Record<string, string> = { x64: "amd64", arm64: "arm64", riscv64: "riscv64", ppc64: "ppc64le", s390x: "s390x" };

function actionOf(where: string, action: string, errnoRet: number | undefined): number {
  switch (action) {
    case "SCMP_ACT_ALLOW":
      return ret.ALLOW;
    case "SCMP_ACT_ERRNO":
      return ret.ERRNO | ((errnoRet ?? EPERM) & 0xffff);
    case "SCMP_ACT_KILL":
    case "SCMP_ACT_KILL_THREAD":
      return ret.KILL_THREAD;
    case "SCMP_ACT_KILL_PROCESS":
      return ret.KILL_PROCESS;
    case "SCMP_ACT_TRAP":
      return ret.TRAP;
    case "SCMP_ACT_LOG":
      return ret.LOG;
    case "SCMP_ACT_TRACE":
      return ret.TRACE | ((errnoRet ?? 0) & 0xffff);
    default:
      throw new InvalidOptionError(where, `unknown action "${action}"; use SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, SCMP_ACT_TRAP, SCMP_ACT_LOG or SCMP_ACT_TRACE`);
  }
}

function capName(name: string): string {
  const upper = name.toUpperCase();
  return upper.startsWith("CAP_") ? upper : `CAP_${upper}`;
}

/**
 * Resolves `profile` for a process with capability names `caps` (e.g. "CAP_CHOWN") on this
 * machine. `option` names the option in errors.
 */
export function resolveSeccompProfile(option: string, profile: DockerSeccompProfile, caps: readonly string[]): SeccompFilter {
  if (typeof profile !== "object" || profile === null || typeof profile.defaultAction !== "string") {
    throw new InvalidOptionError(option, 'expected a Docker seccomp profile object with a defaultAction (e.g. JSON.parse of a profile file), "default" or "unconfined"');
  }
  const arch = nativeArch[process.arch];
  if (arch === undefined) throw new InvalidOptionError(option, `seccomp profiles are not supported on ${process.arch}; use "unconfined"`);
  const have = new Set(caps.map(capName));
  const kernel = kernelVersion(release());
  const matches = (f: DockerSeccompFilter | undefined, all: boolean): boolean => {
    if (f === undefined) return all;
    const tests: boolean[] = [];
    if (f.caps?.length) tests.push(f.caps.some((c) => have.has(capName(c))));
    if (f.arches?.length) tests.push(f.arches.includes(goArch[process.arch]!));
    if (f.minKernel) {
      const [maj, min] = kernelVersion(f.minKernel);
      tests.push(versionAtLeast(kernel, maj, min));
    }
    return all ? tests.every(Boolean) : tests.some(Boolean);
  };
  // The native architecture, its companions from archMap (x86 and x32 beside x86_64, as Docker
  // adds them) and any the profile lists; a call made through another one is killed.
  const companions = (profile.archMap ?? []).find((m) => m.architecture === arch)?.subArchitectures ?? [];
  const arches = [...new Set([arch, ...companions, ...(profile.architectures ?? [])])];
  for (const a of arches) if (archNames[a] === undefined) throw new InvalidOptionError(`${option}.architectures`, `unknown architecture "${a}"`);
  const filter: SeccompFilter = {
    defaultAction: actionOf(`${option}.defaultAction`, profile.defaultAction, profile.defaultErrnoRet),
    badArchAction: ret.KILL_THREAD,
    architectures: arches.map((a) => archNames[a]!),
    rules: [],
  };
  (profile.syscalls ?? []).forEach((rule, i) => {
    const where = `${option}.syscalls[${i}]`;
    const names = rule.names ?? (rule.name !== undefined ? [rule.name] : []);
    if (!Array.isArray(names) || names.length === 0 || !names.every((n) => typeof n === "string")) {
      throw new InvalidOptionError(where, 'a rule needs "names": a non-empty array of syscall names');
    }
    const action = actionOf(`${where}.action`, rule.action, rule.errnoRet);
    if (!matches(rule.includes, true) || (rule.excludes !== undefined && matches(rule.excludes, false))) return;
    const args = (rule.args ?? []).map((a, j) => {
      const op = ops[a.op];
      if (op === undefined || !Number.isInteger(a.index) || a.index < 0 || a.index > 5) {
        throw new InvalidOptionError(`${where}.args[${j}]`, `expected { index: 0..5, value, valueTwo?, op: ${Object.keys(ops).join("|")} }`);
      }
      return { index: a.index, op, value: BigInt(a.value), valueTwo: BigInt(a.valueTwo ?? 0) };
    });
    for (const syscall of names) filter.rules.push({ syscall, action, args });
  });
  return filter;
}
