/**
 * The device policy of every container and build step: Docker's allowlist (moby's
 * oci/defaults.go). Creating any character or block node is allowed (an image may carry them),
 * but only the nodes a process needs may be read or written: null, zero, full, random, urandom,
 * tty, console, ptmx and the pts. On cgroup v2 the kernel enforces it with a BPF program of type
 * BPF_PROG_TYPE_CGROUP_DEVICE attached to the container's group (the bytecode is generated here,
 * as runc's libcontainer/cgroups/devices/ebpf generates it), on a hybrid host to the group in its
 * unified hierarchy. A pure cgroup v1 host (no cgroup2 mounted) gets it from its devices
 * controller: devices.deny "a", then `v1DeviceRules` into devices.allow.
 *
 * In a user namespace the kernel already refuses mknod, and an unprivileged process cannot
 * attach a device program: the policy is meant for containers started by root.
 */

/** One allowed access: a device type, major and minor (undefined: any), and the access letters. */
export interface DeviceRule {
  type: "c" | "b";
  major?: number;
  minor?: number;
  access: string;
}

/** Docker's default device allowlist. */
export const defaultDeviceRules: readonly DeviceRule[] = [
  { type: "c", access: "m" },
  { type: "b", access: "m" },
  { type: "c", major: 1, minor: 3, access: "rwm" }, // null
  { type: "c", major: 1, minor: 5, access: "rwm" }, // zero
  { type: "c", major: 1, minor: 7, access: "rwm" }, // full
  { type: "c", major: 1, minor: 8, access: "rwm" }, // random
  { type: "c", major: 1, minor: 9, access: "rwm" }, // urandom
  { type: "c", major: 5, minor: 0, access: "rwm" }, // tty
  { type: "c", major: 5, minor: 1, access: "rwm" }, // console
  { type: "c", major: 5, minor: 2, access: "rwm" }, // ptmx
  { type: "c", major: 136, access: "rwm" }, // pts
];

/** The rules in cgroup v1's devices.allow syntax ("c 1:3 rwm"). */
export function v1DeviceRules(rules: readonly DeviceRule[]): string[] {
  return rules.map((r) => `${r.type} ${r.major ?? "*"}:${r.minor ?? "*"} ${r.access}`);
}

// eBPF encoding (linux/bpf.h, linux/bpf_common.h).
const LDX_MEM_W = 0x61,
  ALU64_AND_K = 0x57,
  ALU64_RSH_K = 0x77,
  ALU64_MOV_X = 0xbf,
  ALU64_MOV_K = 0xb7,
  JMP_JNE_K = 0x55,
  JMP_EXIT = 0x95;
// struct bpf_cgroup_dev_ctx { u32 access_type (access << 16 | type); u32 major; u32 minor; }
const DEVCG_DEV_BLOCK = 1,
  DEVCG_DEV_CHAR = 2;
const DEVCG_ACC_MKNOD = 1,
  DEVCG_ACC_READ = 2,
  DEVCG_ACC_WRITE = 4;

type Insn = [code: number, dst: number, src: number, off: number, imm: number];

function accessBits(access: string): number {
  let bits = 0;
  for (const ch of access) bits |= ch === "m" ? DEVCG_ACC_MKNOD : ch === "r" ? DEVCG_ACC_READ : ch === "w" ? DEVCG_ACC_WRITE : 0;
  return bits;
}

/**
 * The BPF_PROG_TYPE_CGROUP_DEVICE program that allows exactly `rules`: it returns 1 (allow)
 * at the first rule that covers the device and every requested access, else 0 (deny).
 */
export function deviceFilterProgram(rules: readonly DeviceRule[]): Buffer {
  const insns: Insn[] = [
    [LDX_MEM_W, 2, 1, 0, 0], // r2 = ctx->access_type
    [ALU64_AND_K, 2, 0, 0, 0xffff], // r2 = device type
    [LDX_MEM_W, 3, 1, 0, 0],
    [ALU64_RSH_K, 3, 0, 0, 16], // r3 = requested access
    [LDX_MEM_W, 4, 1, 4, 0], // r4 = major
    [LDX_MEM_W, 5, 1, 8, 0], // r5 = minor
  ];
  for (const rule of rules) {
    const checks: ((skip: number) => Insn[])[] = [];
    checks.push((skip) => [[JMP_JNE_K, 2, 0, skip, rule.type === "c" ? DEVCG_DEV_CHAR : DEVCG_DEV_BLOCK]]);
    const allowed = accessBits(rule.access);
    if (allowed !== 7) {
      // Every requested bit must be allowed: (requested & ~allowed) == 0.
      checks.push((skip) => [
        [ALU64_MOV_X, 1, 3, 0, 0],
        [ALU64_AND_K, 1, 0, 0, ~allowed & 7],
        [JMP_JNE_K, 1, 0, skip, 0],
      ]);
    }
    if (rule.major !== undefined) checks.push((skip) => [[JMP_JNE_K, 4, 0, skip, rule.major!]]);
    if (rule.minor !== undefined) checks.push((skip) => [[JMP_JNE_K, 5, 0, skip, rule.minor!]]);
    // Each check's jump lands just past this rule's block; lengths do not depend on the offset.
    const lengths = checks.map((c) => c(0).length);
    const accept: Insn[] = [
      [ALU64_MOV_K, 0, 0, 0, 1],
      [JMP_EXIT, 0, 0, 0, 0],
    ];
    let remaining = lengths.reduce((a, b) => a + b, 0) + accept.length;
    for (let i = 0; i < checks.length; ++i) {
      remaining -= lengths[i]!;
      insns.push(...checks[i]!(remaining));
    }
    insns.push(...accept);
  }
  insns.push([ALU64_MOV_K, 0, 0, 0, 0], [JMP_EXIT, 0, 0, 0, 0]);
  const out = Buffer.alloc(insns.length * 8);
  insns.forEach(([code, dst, src, off, imm], i) => {
    out.writeUInt8(code, i * 8);
    out.writeUInt8((src << 4) | dst, i * 8 + 1);
    out.writeInt16LE(off, i * 8 + 2);
    out.writeInt32LE(imm | 0, i * 8 + 4);
  });
  return out;
}
