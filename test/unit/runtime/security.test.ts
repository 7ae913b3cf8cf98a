import { describe, expect, it } from "vitest";
import { defaultDeviceRules, deviceFilterProgram, v1DeviceRules } from "../../../src/runtime/devices.js";
import { defaultSeccompProfile } from "../../../src/runtime/seccomp/default-profile.js";
import { resolveSeccompProfile } from "../../../src/runtime/seccomp/profile.js";
import { parseId } from "../../../src/runtime/user.js";
import { InvalidOptionError } from "../../../src/errors.js";

/** Runs a BPF_PROG_TYPE_CGROUP_DEVICE program on one access, with the opcodes the generator uses. */
function runDeviceProgram(program: Buffer, type: "b" | "c", major: number, minor: number, access: string): number {
  const ctx = [(((access.includes("m") ? 1 : 0) | (access.includes("r") ? 2 : 0) | (access.includes("w") ? 4 : 0)) << 16) | (type === "b" ? 1 : 2), major, minor];
  const r = new Array<number>(11).fill(0);
  for (let pc = 0; pc < program.length / 8; ) {
    const code = program.readUInt8(pc * 8),
      regs = program.readUInt8(pc * 8 + 1),
      off = program.readInt16LE(pc * 8 + 2),
      imm = program.readInt32LE(pc * 8 + 4);
    const dst = regs & 15,
      src = regs >> 4;
    pc++;
    switch (code) {
      case 0x61:
        r[dst] = ctx[off / 4]!;
        break;
      case 0x57:
        r[dst] = r[dst]! & imm;
        break;
      case 0x77:
        r[dst] = r[dst]! >>> imm;
        break;
      case 0xbf:
        r[dst] = r[src]!;
        break;
      case 0xb7:
        r[dst] = imm;
        break;
      case 0x55:
        if (r[dst] !== imm) pc += off;
        break;
      case 0x95:
        return r[0]!;
      default:
        throw new Error(`unexpected opcode ${code.toString(16)}`);
    }
  }
  throw new Error("fell off the end of the program");
}

describe("device policy", () => {
  const program = deviceFilterProgram(defaultDeviceRules);
  it("allows reading and writing only the default nodes, and mknod of any", () => {
    expect(runDeviceProgram(program, "c", 1, 3, "rw")).toBe(1); // null
    expect(runDeviceProgram(program, "c", 136, 7, "rw")).toBe(1); // a pts
    expect(runDeviceProgram(program, "c", 5, 2, "rw")).toBe(1); // ptmx
    expect(runDeviceProgram(program, "b", 254, 0, "r")).toBe(0); // a host disk
    expect(runDeviceProgram(program, "b", 254, 0, "m")).toBe(1);
    expect(runDeviceProgram(program, "b", 254, 0, "mr")).toBe(0);
    expect(runDeviceProgram(program, "c", 1, 11, "r")).toBe(0); // /dev/kmsg
    expect(runDeviceProgram(program, "c", 10, 229, "rw")).toBe(0); // fuse
  });

  it("prints the same rules for cgroup v1's devices.allow", () => {
    expect(v1DeviceRules(defaultDeviceRules).slice(0, 3)).toEqual(["c *:* m", "b *:* m", "c 1:3 rwm"]);
    expect(v1DeviceRules(defaultDeviceRules)).toContain("c 136:* rwm");
  });
});

describe("seccomp profiles", () => {
  const names = (caps: string[]) => new Set(resolveSeccompProfile("seccomp", defaultSeccompProfile, caps).rules.map((r) => r.syscall));
  it("allows mount, unshare and setns only with CAP_SYS_ADMIN, and never keyctl", () => {
    const plain = names(["CAP_CHOWN", "CAP_SYS_CHROOT"]);
    for (const denied of ["mount", "unshare", "setns", "bpf", "keyctl", "add_key", "kexec_load", "ptrace_unknown"]) expect(plain.has(denied), denied).toBe(false);
    expect(plain.has("chroot")).toBe(true);
    expect(plain.has("read")).toBe(true);
    const admin = names(["CAP_SYS_ADMIN"]);
    expect(admin.has("mount") && admin.has("unshare")).toBe(true);
    expect(admin.has("keyctl")).toBe(false);
  });

  it("makes clone3 fail with ENOSYS and guards clone's namespace flags without CAP_SYS_ADMIN", () => {
    const filter = resolveSeccompProfile("seccomp", defaultSeccompProfile, []);
    expect(filter.rules.find((r) => r.syscall === "clone3")?.action).toBe(0x00050000 | 38);
    expect(filter.rules.find((r) => r.syscall === "clone")?.args).toEqual([{ index: 0, op: 7, value: 0x7e020000n, valueTwo: 0n }]);
    expect(filter.defaultAction).toBe(0x00050000 | 1);
  });

  it("names the field of a bad profile", () => {
    expect(() => resolveSeccompProfile("seccomp", { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ action: "SCMP_ACT_ERRNO" }] }, [])).toThrow(/seccomp.syscalls\[0\]: a rule needs "names"/);
  });
});

describe("ids", () => {
  it("accepts 0..2147483647 and refuses what would wrap", () => {
    expect(parseId("user", "uid", "2147483647")).toBe(2147483647);
    for (const text of ["2147483648", "4294967295", "4294967296", "99999999999"]) expect(() => parseId("user", "uid", text)).toThrow(InvalidOptionError);
  });
});
