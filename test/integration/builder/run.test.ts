import { isRoot } from "../setup-env.js";
import { readdirSync, readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { BuildStepError } from "../../../src/builder/index.js";
import { LayeredView } from "../../../src/builder/layered-view.js";
import { Image } from "../../../src/image/image.js";
import { Store } from "../../../src/registry/store.js";
import { tunDeviceOpen } from "../../../src/runtime/host-devices.js";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { onlyRootInContainers, unmappedUserError } from "../rootless.js";
import { expectNoLeaks, progress, runImage } from "./helpers.js";

afterEach(() => expectNoLeaks());

const base = () => Image.fromRootfs(busyboxRootfs());

async function layerFiles(image: Image): Promise<string[][]> {
  const store = Store.default();
  const built = await image.build({ store });
  const dirs = await store.lowerDirs(built.id);
  const { execFileSync } = await import("node:child_process");
  // Each layer's own entries, bottom layer (the rootfs) left out.
  return dirs.slice(0, -1).map((d) => execFileSync("find", [".", "-mindepth", "1"], { cwd: d, encoding: "utf8" }).split("\n").filter(Boolean).sort());
}

describe(`RUN`, () => {
  it("runs shell form through SHELL and exec form as is, with ENV, ARGs as env, USER and WORKDIR", async () => {
    const image = base()
      .arg("FLAVOUR", "plain")
      .env("GREETING", "hello")
      .workdir("/srv/app")
      .run("echo $GREETING $FLAVOUR $(pwd) > env.txt")
      // The shell-form text is appended to SHELL: here it becomes $1 of a wrapper.
      .shell(["/bin/sh", "-c", 'exec /bin/sh -c "$1" custom-shell', "outer"])
      .run("echo shell=$0 > shell.txt")
      .run(["/bin/sh", "-c", "id -u > /srv/app/uid.txt"])
      .user("app")
      .run("id -un > /tmp/user.txt; touch /tmp/mine")
      .user("root")
      .cmd(["sh", "-c", "cat /srv/app/env.txt /srv/app/uid.txt /tmp/user.txt /srv/app/shell.txt; ls -ln /tmp/mine | awk '{print $3}'; env | grep -c FLAVOUR || true"]);
    // Rootless without a subordinate id range only container root exists: USER app is refused, naming the fix.
    if (onlyRootInContainers) return void (await expect(runImage(image)).rejects.toThrow(unmappedUserError));
    const { stdout } = await runImage(image);
    // Rootless too, layers keep their owners: app's file is app's.
    expect(stdout).toBe("hello plain /srv/app\n0\napp\nshell=custom-shell\n1000\n0\n");
  });

  it("creates a missing WORKDIR owned by the USER (a layer), and makes no layer for an existing one", async () => {
    const image = base()
      .user("app")
      .workdir("/srv/data/app")
      .run("touch made-by-app")
      .workdir("/tmp")
      .workdir("/srv/data/empty")
      .cmd(["sh", "-c", "touch /srv/data/empty/at-start && stat -c '%U %a %n' /srv/data/app /srv/data/app/made-by-app /srv/data/empty /srv/data/empty/at-start /srv/data"]);
    if (onlyRootInContainers) return void (await expect(image.build()).rejects.toThrow(unmappedUserError));
    const built = await image.build();
    // The rootfs, WORKDIR /srv/data/app, the RUN, WORKDIR /srv/data/empty; WORKDIR /tmp existed.
    expect(built.layers).toHaveLength(4);
    expect((await runImage(Image.from(built.id))).stdout).toBe("app 755 /srv/data/app\napp 644 /srv/data/app/made-by-app\napp 755 /srv/data/empty\napp 644 /srv/data/empty/at-start\napp 755 /srv/data\n");
  });

  it("keeps ENV over an ARG of the same name, and passes build args", async () => {
    const image = base().arg("MODE", "arg-default").env("MODE", "env-value").arg("OTHER").run("echo $MODE $OTHER > /out.txt").cmd(["cat", "/out.txt"]);
    const built = await image.build({ buildArgs: { OTHER: "from-build-arg" } });
    expect((await runImage(Image.from(built.id))).stdout).toBe("env-value from-build-arg\n");
  });

  it("gives a step its own network with a way out by default (rootless: where /dev/net/tun is open to the user), the host's with --network=host, only lo with --network=none", async () => {
    const own = base().run("ls /sys/class/net > /own-net.txt");
    const host = base().run("ls /sys/class/net > /host-net.txt", { network: "host" });
    const none = base().run("ls /sys/class/net > /none-net.txt", { network: "none" });
    const store = Store.default();
    const hostView = new LayeredView(await store.lowerDirs((await host.build()).id));
    const noneView = new LayeredView(await store.lowerDirs((await none.build()).id));
    const hostNet = readFileSync(hostView.lookup("host-net.txt")!.hostPath, "utf8").trim().split("\n");
    const noneNet = readFileSync(noneView.lookup("none-net.txt")!.hostPath, "utf8").trim().split("\n");
    const ownView = new LayeredView(await store.lowerDirs((await own.build()).id));
    const ownNet = readFileSync(ownView.lookup("own-net.txt")!.hostPath, "utf8").trim().split("\n");
    expect(noneNet).toEqual(["lo"]);
    // Never the host's: slirp4netns's tap0, or only lo where the user may not open /dev/net/tun.
    expect(ownNet).toEqual(isRoot || tunDeviceOpen() ? ["lo", "tap0"] : ["lo"]);
    expect(hostNet).toEqual(readdirSync("/sys/class/net").sort());
  });

  it("makes a layer of the step's changes only: whiteouts for deletions, no mount stubs, no layer for no change", async () => {
    const layers = await layerFiles(base().run("rm /bin/vi; mkdir -p /opt/new && echo x > /opt/new/f").run("true"));
    expect(layers).toHaveLength(1); // `RUN true` changed nothing
    expect(layers[0]).toEqual(["./bin", "./bin/vi", "./opt", "./opt/new", "./opt/new/f"]);
    const built = await base().run("rm /bin/vi").cmd(["sh", "-c", "ls /bin/vi 2>&1 || echo gone; ls -d /proc /etc/hosts"]).build();
    expect((await runImage(Image.from(built.id))).stdout).toMatch(/^ls: \/bin\/vi: No such file or directory\ngone\n/);
  });

  it("fails with BuildStepError naming the step, the Dockerfile line, the exit code and the last output lines", async () => {
    const image = Image.fromDockerfile({ dockerfile: `FROM ${busyboxRootfs()}\nRUN echo fine\n\nRUN echo about to fail; echo on stderr >&2; exit 3\nRUN echo never\n` });
    // A Dockerfile FROM names an image reference; use the same steps on a rootfs base instead.
    const plan = image.toPlan();
    plan.steps[0] = { kind: "from", base: { type: "rootfs", path: busyboxRootfs() }, location: { line: 1, endLine: 1 } };
    plan.dockerfile = "test/Dockerfile";
    const p = progress();
    const error = await Image.fromPlan(plan)
      .build({ onProgress: p.onProgress })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BuildStepError);
    const e = error as BuildStepError;
    expect(e.code).toBe("ERR_BUILD_STEP");
    expect([e.step, e.total, e.line, e.file, e.exitCode]).toEqual([3, 4, 4, "test/Dockerfile", 3]);
    expect(e.outputTail).toEqual(["about to fail", "on stderr"]);
    expect(e.message).toMatch(/^build step 3\/4 \(test\/Dockerfile:4: RUN echo about to fail; echo on stderr >&2; exit 3\): exit code 3\nlast output lines:\n {2}about to fail\n {2}on stderr$/);
    expect(p.events.some((ev) => ev.type === "output" && ev.text === "about to fail\n")).toBe(true);
    expect(p.steps().map((s) => s.step)).toEqual([1, 2, 3]);
  });

  it("runs RUN heredocs: through the shell, and as a script when it starts with #!", async () => {
    const dockerfile = [
      "FROM scratch",
      "RUN <<EOF",
      "echo one > /one.txt",
      "echo two >> /one.txt",
      "EOF",
      "RUN <<EOF",
      "#!/bin/sh -e",
      'echo "script $0" > /script.txt',
      "EOF",
      "RUN cat > /cat.txt <<EOT",
      "from cat",
      "EOT",
      'CMD ["cat", "/one.txt", "/script.txt", "/cat.txt"]',
      "",
    ].join("\n");
    const plan = Image.fromDockerfile({ dockerfile }).toPlan();
    plan.steps[0] = { kind: "from", base: { type: "rootfs", path: busyboxRootfs() } };
    const { stdout } = await runImage(Image.fromPlan(plan));
    expect(stdout).toBe("one\ntwo\nscript /dev/pipes/EOF\nfrom cat\n");
  });

  it("refuses RUN --mount and --security=insecure with a clear error", async () => {
    const error = await base()
      .run("true", { mounts: [{ type: "cache", target: "/cache" }] })
      .build()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BuildStepError);
    expect((error as Error).message).toMatch(/RUN --mount is not supported/);
  });
});
