/**
 * The docker-named image, volume, inspect and system commands against a real store and a real
 * registry, each "machine" a BENTO_HOME of its own: tag and push from one, pull, inspect,
 * history, save, rmi and load on another; inspect of a running container from another process;
 * the progress display through a pseudo-terminal (script(1)).
 */
import "../setup-env.js";
import { testRoot } from "../setup-env.js";
import { execFileSync } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import "../../../src/builder/index.js";
import { Image } from "../../../src/image/image.js";
import { Store } from "../../../src/registry/store.js";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { leftovers } from "../leaks.js";
import { expectNoLeaks as expectNoStoreLeaks } from "../store/helpers.js";
import { registriesRunning, requireTool, startRegistry, type RegistryServer } from "../registry/registry-server.js";
import { bento, bentoChild, bentoCli, waitUntil } from "./helpers.js";

let registry: RegistryServer;
let builtId: string;
const homes: string[] = [];
const made: string[] = [];

function machine(): string {
  const home = mkdtempSync(join(testRoot, "docker-cli-"));
  homes.push(home);
  return home;
}

const first = machine();
const on = (home: string, args: string[]) => bento(args, { env: { BENTO_HOME: home } });

beforeAll(async () => {
  registry = await startRegistry();
  const built = await Image.fromRootfs(busyboxRootfs())
    .cmd(["sh"])
    .label({ "org.example.team": "qa" })
    .build({ store: Store.open(first), tag: "app:1" });
  builtId = built.id;
});
afterAll(async () => {
  await registry?.stop();
  expect(registriesRunning()).toBe(0);
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});
afterEach(async () => {
  const ids = made.splice(0);
  expect(await waitUntil(() => leftovers(ids).length === 0, 3000)).toBe(true);
  for (const home of homes) await expectNoStoreLeaks(home);
});

describe("bento compose pull", () => {
  it("pulls each image of the services without a build: section once, into this machine's store", async () => {
    const remote = `${registry.host}/cli/compose:1`;
    expect(await on(first, ["tag", "app:1", remote])).toMatchObject({ code: 0 });
    expect((await on(first, ["push", "-q", remote])).code).toBe(0);
    const home = machine();
    const project = mkdtempSync(join(testRoot, "compose-pull-"));
    writeFileSync(join(project, "compose.yaml"), `services:\n  web:\n    image: ${remote}\n  worker:\n    image: ${remote}\n  local:\n    build: ./nowhere\n`);
    const pulled = await bento(["compose", "pull", "-q"], { env: { BENTO_HOME: home }, cwd: project });
    expect(pulled).toMatchObject({ code: 0, stderr: "" });
    expect((await on(home, ["inspect", "-f", "{{.Id}}", remote])).stdout).toBe(`${builtId}\n`);
    expect((await on(home, ["images", "-q"])).stdout.trim().split("\n")).toHaveLength(1);
    expect(await bento(["compose", "pull", "nope"], { env: { BENTO_HOME: home }, cwd: project })).toMatchObject({ code: 125 });
  });
});

describe("bento tag, push, pull, inspect, history, save, rmi, load", () => {
  it("moves an image between two stores through a registry and an archive, as docker's commands do", async () => {
    const remote = `${registry.host}/cli/app:1`;
    expect(await on(first, ["tag", "app:1", remote])).toMatchObject({ code: 0, stdout: "", stderr: "" });
    const pushed = await on(first, ["push", "--progress", "plain", remote]);
    expect(pushed.code).toBe(0);
    expect(pushed.stdout).toBe(`${remote}\n`);
    // The compose pull test above pushed the same layer to another repository of this registry.
    expect(pushed.stderr).toMatch(/^[0-9a-f]{12}: (Pushed|Mounted from another repository) \(layer\)$/m);
    expect(pushed.stderr).not.toContain("\x1b[");

    const second = machine();
    const pulled = await on(second, ["pull", remote]); // piped: plain lines
    expect(pulled.code).toBe(0);
    expect(pulled.stderr).toMatch(/^[0-9a-f]{12}: Downloading \(layer\) 0B\/[\d.]+[kM]?B$/m);
    expect(pulled.stderr).toMatch(/^[0-9a-f]{12}: Download complete \(layer\)$/m);
    expect(pulled.stderr).toContain(`Status: Downloaded newer image for ${remote}\n`);
    expect((await on(second, ["pull", "-q", remote])).stderr).toBe("");

    const inspected = await on(second, ["inspect", remote]);
    expect(inspected.code).toBe(0);
    const [image] = JSON.parse(inspected.stdout) as [{ Id: string; RepoTags: string[]; RootFS: { Layers: string[] }; Config: { Cmd: string[] } }];
    expect(image).toMatchObject({ Id: builtId, RepoTags: [remote], Config: { Cmd: ["sh"] } });
    expect(image.RootFS.Layers).toHaveLength(1);
    const formatted = await on(second, ["inspect", "--type", "image", "-f", '{{.Id}} {{index .Config.Labels "org.example.team"}} {{json .Config.Cmd}}', remote]);
    expect(formatted).toMatchObject({ code: 0, stdout: `${builtId} qa ["sh"]\n` });

    const history = await on(second, ["history", "--format", "{{.ID}}|{{.Size}}", remote]);
    expect(history.code).toBe(0);
    expect(history.stdout.trim().split("\n")[0]).toMatch(new RegExp(`^${builtId}\\|[\\d.]+[kM]?B$`));

    const archive = join(testRoot, `app-${process.pid}.tar`);
    expect((await on(second, ["save", "-o", archive, remote])).code).toBe(0);
    expect(existsSync(archive)).toBe(true);
    const removed = await on(second, ["rmi", remote]);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toContain(`Untagged: ${remote}\n`);
    expect(removed.stdout).toContain(`Deleted: ${builtId}\n`);
    expect((await on(second, ["images", "-q"])).stdout).toBe("");
    const loaded = await on(second, ["load", "-i", archive]);
    expect(loaded).toMatchObject({ code: 0, stdout: `Loaded image: ${remote}\n` });
    expect((await on(second, ["inspect", "-f", "{{.Id}}", remote])).stdout).toBe(`${builtId}\n`);
    rmSync(archive);

    const df = await on(second, ["system", "df"]);
    expect(df.code).toBe(0);
    expect(df.stdout).toMatch(/^TYPE\s+TOTAL\s+SIZE\nImages\s+1\s+[\d.]+[kM]?B\n/);
  });

  it("exits 125 with the usage for bad usage, and 1 naming the object when it does not exist", async () => {
    for (const args of [
      ["tag", "only-one"],
      ["inspect"],
      ["inspect", "--type", "network", "x"],
      ["pull", "--progress", "fancy", "x"],
      ["save", "app:1"],
      ["load"],
      ["rmi"],
      ["system"],
      ["volume", "frob"],
      ["inspect", "-f", "{{.Id", "app:1"],
    ]) {
      const r = await on(first, args);
      expect({ args, code: r.code, stdout: r.stdout }).toEqual({ args, code: 125, stdout: "" });
      expect(r.stderr).toMatch(/^bento: .+\n\nUsage: bento /);
    }
    const missing = await on(first, ["inspect", "no-such-thing"]);
    expect(missing).toMatchObject({ code: 1, stderr: "bento: no such object: no-such-thing\n", stdout: "[]\n" });
    const partly = await on(first, ["inspect", "-f", "{{.Id}}", "app:1", "nothing-here"]);
    expect(partly).toMatchObject({ code: 1, stdout: `${builtId}\n`, stderr: "bento: no such object: nothing-here\n" });
    expect(await on(first, ["rmi", "no-such:image"])).toMatchObject({ code: 1 });
  });
});

describe("bento volume create and inspect", () => {
  it("creates a volume with labels, shows it as docker's JSON, and removes it", async () => {
    const home = machine();
    expect(await on(home, ["volume", "create", "--label", "team=qa", "cli-data"])).toMatchObject({ code: 0, stdout: "cli-data\n" });
    const shown = await on(home, ["volume", "inspect", "cli-data"]);
    expect(JSON.parse(shown.stdout)).toEqual([{ CreatedAt: expect.any(String), Driver: "local", Labels: { team: "qa" }, Mountpoint: join(home, "volumes", "cli-data", "_data"), Name: "cli-data", Options: {}, Scope: "local" }]);
    expect((await on(home, ["inspect", "-f", "{{.Name}} {{.Labels.team}}", "cli-data"])).stdout).toBe("cli-data qa\n");
    expect(await on(home, ["volume", "inspect", "nope"])).toMatchObject({ code: 1, stderr: "bento: no such volume: nope\n" });
    expect(await on(home, ["volume", "rm", "cli-data"])).toMatchObject({ code: 0 });
  });
});

describe("bento inspect of a container", () => {
  it("shows another process's container: state, command, ports and labels", async () => {
    const run = bentoChild(["run", "--name", "cli-inspected", "-p", "8080", "-e", "GREETING=hi", busyboxRootfs(), "sleep", "1000"]);
    let shown: { code: number | null; stdout: string } = { code: null, stdout: "" };
    for (const end = Date.now() + 15_000; Date.now() < end; ) {
      shown = await bento(["inspect", "-f", "{{.State.Status}}", "cli-inspected"]);
      if (shown.stdout === "running\n") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(shown).toMatchObject({ code: 0, stdout: "running\n" });
    const [c] = JSON.parse((await bento(["inspect", "--type", "container", "cli-inspected"])).stdout) as [{ Id: string; Name: string; Path: string; Args: string[]; Config: { Env: string[] }; State: { Running: boolean; Pid: number } }];
    made.push(c.Id);
    expect(c).toMatchObject({ Name: "/cli-inspected", Path: "sleep", Args: ["1000"], State: { Running: true } });
    expect(c.State.Pid).toBeGreaterThan(0);
    expect(c.Config.Env).toContain("GREETING=hi");
    const ports = await bento(["inspect", "-f", "{{range $p, $b := .NetworkSettings.Ports}}{{$p}}={{(index $b 0).HostIp}}:{{(index $b 0).HostPort}}{{end}}", "cli-inspected"]);
    expect(ports.stdout).toMatch(/^8080\/tcp=127\.0\.0\.1:\d+\n$/);
    run.kill("SIGTERM");
    await once(run, "exit");
    expect(await bento(["inspect", "cli-inspected"])).toMatchObject({ code: 1 });
  });
});

describe("the progress display in a terminal", () => {
  it("bento pull draws in place through a pseudo-terminal (script -q)", async () => {
    requireTool("script", ["--version"], "bsdutils");
    const home = machine();
    const remote = `${registry.host}/cli/tty:1`;
    await Store.open(first).tag("app:1", remote);
    expect((await on(first, ["push", "-q", remote])).code).toBe(0);
    const command = [process.execPath, bentoCli, "pull", remote].map((a) => `'${a}'`).join(" ");
    const typescript = execFileSync("script", ["-q", "-e", "-c", command, "/dev/null"], { env: { ...process.env, BENTO_HOME: home, COLUMNS: "100" }, encoding: "utf8" });
    expect(typescript).toContain(`Pulling ${remote}`);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the assertion is about the terminal escapes the progress display writes
    expect(typescript).toMatch(/\r\x1b\[2K[0-9a-f]{12}: Download complete/);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the assertion is about the terminal escapes the progress display writes
    expect(typescript).toMatch(/\x1b\[\d+A/); // redrawn in place
    expect(typescript).toContain(`Status: Downloaded newer image for ${remote}`);
  });
});
