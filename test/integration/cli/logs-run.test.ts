import "../setup-env.js";
import { afterEach, describe, expect, it } from "vitest";
import { once } from "node:events";
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { config } from "../../../src/config.js";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { leftovers } from "../leaks.js";
import { onlyRootInContainers, unmappedUserError } from "../rootless.js";
import { bento, bentoChild, leftoversOfPrefix, ownerTracker, rootlessNotice, stopOwner, waitUntil } from "./helpers.js";

const { owner, checkAfterEach } = ownerTracker(leftovers);
afterEach(checkAfterEach);

/** The ids of every container on the machine, from `bento ps -a --json`. */
async function allIds(): Promise<string[]> {
  return (JSON.parse((await bento(["ps", "-a", "--json"])).stdout) as { id: string }[]).map((c) => c.id);
}

describe(`bento logs`, () => {
  it("prints a stopped container's output: stdout to stdout, stderr to stderr; --tail and -t", async () => {
    await owner(["cli-logs=echo out-1; echo err-1 >&2; sleep 0.2; echo out-2; printf no-newline"], true);
    const r = await bento(["logs", "cli-logs"]);
    expect(r).toMatchObject({ code: 0, stdout: "out-1\nout-2\nno-newline", stderr: "err-1\n" });
    const tail = await bento(["logs", "--tail", "2", "cli-logs"]);
    expect(tail).toMatchObject({ code: 0, stdout: "out-2\nno-newline", stderr: "" });
    const stamped = await bento(["logs", "-t", "--tail", "1", "cli-logs"]);
    expect(stamped.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z no-newline$/);
    // -f on a container that already ended prints what it wrote and returns.
    expect(await bento(["logs", "-f", "cli-logs"])).toMatchObject({ code: 0, stdout: "out-1\nout-2\nno-newline" });
  });

  it("prints the output of a container left behind by a process that died", async () => {
    const o = await owner(["cli-logs-left=echo still-here; sleep 1000"]);
    const log = join(config().home, "containers", o.started[0]!.id, "container.log");
    expect(await waitUntil(() => existsSync(log) && readFileSync(log, "utf8").includes("still-here"), 5000)).toBe(true);
    await stopOwner(o, "SIGKILL");
    expect(await bento(["logs", "cli-logs-left"])).toMatchObject({ code: 0, stdout: "still-here\n" });
    expect((await bento(["rm", "cli-logs-left"])).code).toBe(0);
  });

  it("-f follows a running container until it ends", async () => {
    const o = await owner(["cli-follow=echo first; sleep 1; echo second; sleep 1; echo third >&2"]);
    const follow = bentoChild(["logs", "-f", "--tail", "5", o.started[0]!.id]);
    const t0 = Date.now();
    const [code] = (await once(follow, "exit")) as [number];
    expect(code).toBe(0);
    expect(Date.now() - t0).toBeGreaterThan(1000);
    expect(follow.output).toEqual({ stdout: "first\nsecond\n", stderr: "third\n" });
  });
});

describe(`bento run`, () => {
  it("runs the busybox rootfs: prints the command's output, exits with its code, leaves nothing", async () => {
    const r = await bento(["run", "--rm", busyboxRootfs(), "sh", "-c", "hostname; echo hello; echo oops >&2; exit 7"]);
    const [hostname, ...rest] = r.stdout.split("\n");
    expect({ ...r, stdout: rest.join("\n") }).toMatchObject({ code: 7, stdout: "hello\n", stderr: "oops\n" });
    expect(hostname).toMatch(/^[0-9a-f]{12}$/);
    // Rootless without a subordinate id range, bento says once what that limits; otherwise never.
    expect(r.rawStderr.match(new RegExp(rootlessNotice.source, "gm"))?.length ?? 0).toBe(onlyRootInContainers ? 1 : 0);
    expect(leftoversOfPrefix(hostname!)).toEqual([]);
    expect(await allIds()).toEqual([]);
  });

  it("applies -e, -w, -u, --name and -v, and passes the command's own flags through", async () => {
    const data = mkdtempSync(join(tmpdir(), "bento-cli-bind-"));
    chmodSync(data, 0o755); // the command runs as "app"
    writeFileSync(join(data, "note.txt"), "from the host\n");
    // Rootless without a subordinate id range only container root exists: -u app is refused, naming the fix.
    if (onlyRootInContainers) expect((await bento(["run", "-u", "app", busyboxRootfs(), "true"])).stderr).toMatch(unmappedUserError);
    const user = onlyRootInContainers ? "root" : "app";
    const r = await bento([
      "run",
      "-e",
      "GREETING=hi there",
      "-w",
      "/tmp",
      "-u",
      user,
      "--name",
      "cli-run",
      "-v",
      `${data}:/mnt/data:ro`,
      busyboxRootfs(),
      "sh",
      "-c",
      'echo "$GREETING"; pwd; id -un; cat /mnt/data/note.txt; ls -d /does-not-exist',
    ]);
    expect(r.stdout).toBe(`hi there\n/tmp\n${user}\nfrom the host\n`);
    expect(r.stderr).toMatch(/does-not-exist/);
    expect(r.code).toBe(1);
    expect(await allIds()).toEqual([]);
  });

  it("publishes -p ports on the loopback addresses and says where", async () => {
    const r = await bento(["run", "-p", "8080", busyboxRootfs(), "true"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^bento: 8080\/tcp is published on 127\.0\.0\.1:(\d+) and \[::1\]:\1\n$/);
  });

  it("fails with 125 (as docker's run) and one line for a missing directory or image, and explains a directory given without ./", async () => {
    const missing = await bento(["run", "/no/such/rootfs", "true"]);
    expect(missing).toMatchObject({ code: 125, stdout: "", stderr: "bento: /no/such/rootfs: no such directory; give a root filesystem directory, or an image reference\n" });
    const image = await bento(["run", "no-such-image:1", "true"]);
    expect(image.code).toBe(125);
    expect(image.stderr).toMatch(/^bento: .*no-such-image:1.*\n$/);
    const bare = await bento(["run", basename(busyboxRootfs()), "true"], { cwd: dirname(busyboxRootfs()) });
    expect(bare.code).toBe(125);
    expect(bare.stderr).toMatch(new RegExp(`\\(to run the directory "${basename(busyboxRootfs())}", write \\./${basename(busyboxRootfs())}\\)\n$`));
  });
});
