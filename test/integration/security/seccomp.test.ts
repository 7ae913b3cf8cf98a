import "../setup-env.js";
import { describe, expect, it } from "vitest";
import { Container, Image, InvalidOptionError } from "../../../src/index.js";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { run, start } from "./kit.js";

/** "name errno" lines of the probe, as a map. */
function answers(stdout: string): Record<string, string> {
  return Object.fromEntries(
    stdout
      .trim()
      .split("\n")
      .map((l) => [l.slice(0, l.lastIndexOf(" ")), l.slice(l.lastIndexOf(" ") + 1)]),
  );
}

const denied = ["keyctl", "add_key", "request_key", "unshare(CLONE_NEWUSER)", "clone(CLONE_NEWUSER)", "mount", "kexec_load", "bpf", "perf_event_open", "open_by_handle_at", "userfaultfd", "setns"];

describe(`seccomp`, () => {
  it("denies keyctl, add_key, user namespaces, mount, kexec, bpf, perf_event_open and the rest with EPERM by default", async () => {
    const r = await run(["/escape-probe", "syscalls"]);
    expect(r.exitCode).toBe(0);
    const got = answers(r.stdout);
    expect(Object.fromEntries(denied.map((name) => [name, got[name]]))).toEqual(Object.fromEntries(denied.map((name) => [name, "EPERM"])));
    expect((await run(["grep", "Seccomp:", "/proc/self/status"])).stdout).toMatch(/Seccomp:\s+2/);
  });

  it("leaves ordinary work alone under the default profile: processes, files, /proc", async () => {
    const r = await run(["sh", "-c", "echo a > /tmp/f && cat /tmp/f && ls / >/dev/null && (sleep 0 &) && wait && ps >/dev/null && date >/dev/null && echo done"]);
    expect(r.stdout).toBe("a\ndone\n");
  });

  it("applies the container's profile to exec too", async () => {
    const running = await start(["sleep", "30"]);
    const r = await running.exec(["/escape-probe", "syscalls"]);
    expect(answers(r.stdout)["keyctl"]).toBe("EPERM");
    await (await running.stop({ timeoutMs: 1000 })).remove();
  });

  it('installs no filter with seccomp: "unconfined"', async () => {
    const r = await run(["grep", "Seccomp:", "/proc/self/status"], { seccomp: "unconfined" });
    expect(r.stdout).toMatch(/Seccomp:\s+0/);
  });

  it("applies a Docker-format JSON profile, its capability conditions included", async () => {
    const profile = {
      defaultAction: "SCMP_ACT_ALLOW",
      syscalls: [
        { names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 13 },
        { names: ["chmod", "fchmodat"], action: "SCMP_ACT_ERRNO", excludes: { caps: ["CAP_FOWNER"] } },
      ],
    };
    const r = await run(["sh", "-c", "mkdir /tmp/x 2>&1; chmod 600 /tmp && echo chmod-ok"], { seccomp: profile });
    expect(r.stdout).toContain("Permission denied");
    expect(r.stdout).toContain("chmod-ok");
    const dropped = await run(["sh", "-c", "chmod 600 /tmp 2>&1 || echo refused"], { seccomp: profile, capDrop: ["FOWNER"] });
    expect(dropped.stdout).toContain("refused");
  });

  it("refuses a malformed profile in the constructor, naming the field", () => {
    const image = Image.fromRootfs(busyboxRootfs());
    expect(() => new Container(image, { seccomp: "strict" as "default" })).toThrow(InvalidOptionError);
    expect(() => new Container(image, { seccomp: { defaultAction: "SCMP_ACT_NOPE" } })).toThrow(/seccomp.defaultAction: unknown action "SCMP_ACT_NOPE"/);
    expect(() => new Container(image, { seccomp: { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["read"], action: "SCMP_ACT_ERRNO", args: [{ index: 9, value: 0, op: "SCMP_CMP_EQ" }] }] } })).toThrow(
      /seccomp.syscalls\[0\].args\[0\]/,
    );
  });
});
