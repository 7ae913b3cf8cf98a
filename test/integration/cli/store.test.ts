import { testRoot } from "../setup-env.js";
import { afterEach, describe, expect, it } from "vitest";
import { once } from "node:events";
import { createServer, type AddressInfo } from "node:net";
import { cpSync, mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Volume } from "../../../src/index.js";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { leftovers } from "../leaks.js";
import { bento, bentoChild, waitUntil } from "./helpers.js";

const made: string[] = [];

afterEach(async () => {
  const ids = made.splice(0);
  expect(await waitUntil(() => leftovers(ids).length === 0, 3000)).toBe(true);
});

interface PsRow {
  id: string;
  name: string;
  status: string;
  volumes: string[];
}

async function ps(): Promise<PsRow[]> {
  return JSON.parse((await bento(["ps", "-a", "--json"])).stdout) as PsRow[];
}

/** `bento ps` once a container runs (polled: another process is starting it). */
async function running(): Promise<PsRow[]> {
  for (const end = Date.now() + 15_000; Date.now() < end; ) {
    const rows = await ps();
    if (rows.some((r) => r.status === "running")) return rows;
    await new Promise((r) => setTimeout(r, 100));
  }
  return ps();
}

/** A build context holding the busybox rootfs and a Dockerfile that copies it into a scratch image. */
function busyboxContext(dockerfileExtra = ""): string {
  const dir = mkdtempSync(join(testRoot, "cli-ctx-"));
  cpSync(busyboxRootfs(), join(dir, "rootfs"), { recursive: true, verbatimSymlinks: true });
  writeFileSync(join(dir, "Dockerfile"), `FROM scratch\nCOPY rootfs/ /\nCMD ["sh"]\n${dockerfileExtra}`);
  return dir;
}

describe(`bento volume`, () => {
  it("lists volumes with their users, refuses to remove one in use, prunes only unused ones", async () => {
    await new Volume("cli-idle").create();
    const run = bentoChild(["run", "--name", "cli-vol-user", "-v", "cli-used:/data", busyboxRootfs(), "sleep", "1000"]);
    const rows = await running();
    expect(rows).toMatchObject([{ name: "cli-vol-user", status: "running", volumes: ["cli-used"] }]);
    made.push(rows[0]!.id);

    const ls = await bento(["volume", "ls", "--json"]);
    expect(ls.code).toBe(0);
    expect((JSON.parse(ls.stdout) as { name: string; usedBy: string[] }[]).map((v) => [v.name, v.usedBy])).toEqual([
      ["cli-idle", []],
      ["cli-used", ["cli-vol-user"]],
    ]);
    const table = await bento(["volume", "ls"]);
    expect(table.stdout).toMatch(/^NAME\s+CREATED\s+ANONYMOUS\s+USED BY\ncli-idle\s+.+\s+no\s+-\ncli-used\s+.+\s+no\s+cli-vol-user\n$/);

    const refused = await bento(["volume", "rm", "cli-used", "cli-missing"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe('bento: volume cli-used is used by container cli-vol-user; remove it first\nbento: no volume named cli-missing; "bento volume ls" lists them\n');

    expect(await bento(["volume", "prune"])).toMatchObject({ code: 0, stdout: "No unused volumes\n" }); // named ones stay
    const pruned = await bento(["volume", "prune", "-a"]);
    expect(pruned).toMatchObject({ code: 0, stdout: "Deleted volumes:\ncli-idle\n" });

    run.kill("SIGTERM"); // its exit hooks remove its container
    await once(run, "exit");
    expect(await ps()).toEqual([]);
    expect(await bento(["volume", "rm", "cli-used"])).toMatchObject({ code: 0, stdout: "cli-used\n" });
    expect((await bento(["volume", "ls", "-q"])).stdout).toBe("");
  });
});

describe(`bento build, images and run of a store image`, () => {
  it("builds a Dockerfile, lists the image, runs it by reference, and prune deletes it once untagged", async () => {
    const context = busyboxContext('ENV GREETING="hello from the store"\n');
    const built = await bento(["build", "-t", "cli-app:1", context]);
    expect(built.code).toBe(0);
    const id = built.stdout.trim();
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(built.stderr).toMatch(/step 2\/4: COPY rootfs\/ \//);
    expect(built.stderr).toMatch(/tagged docker\.io\/library\/cli-app:1|tagged cli-app:1/);

    const images = await bento(["images"]);
    expect(images.stdout).toMatch(new RegExp(`^REPOSITORY\\s+TAG\\s+IMAGE ID\\s+CREATED\\s+SIZE\\ncli-app\\s+1\\s+${id.slice(7, 19)}\\s+.+ ago\\s+[\\d.]+[kM]?B\\n$`));
    expect(JSON.parse((await bento(["images", "--json"])).stdout)).toMatchObject([{ repository: "cli-app", tag: "1", id }]);

    const run = await bento(["run", "cli-app:1", "sh", "-c", 'echo "$GREETING"; exit 4']);
    expect(run).toMatchObject({ code: 4, stdout: "hello from the store\n" });

    // Rebuilding the tag from another Dockerfile leaves the first image untagged: dangling.
    writeFileSync(join(context, "Dockerfile"), 'FROM scratch\nCOPY rootfs/ /\nCMD ["true"]\n');
    const rebuilt = await bento(["build", "-q", "-t", "cli-app:1", context]);
    expect(rebuilt).toMatchObject({ code: 0, stderr: "" });
    const prune = await bento(["prune"]);
    expect(prune.code).toBe(0);
    expect(prune.stdout).toContain(`Deleted images:\ndeleted: ${id}\n`);
    expect((await bento(["images", "-q"])).stdout).toBe(`${rebuilt.stdout.trim().slice(7, 19)}\n`);
  });

  it("build --network host gives RUN steps the host's 127.0.0.1; --network bridge is a usage error naming the choices", async () => {
    const server = createServer((socket) => socket.end("host-secret\n"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const context = busyboxContext(`RUN nc -w 2 127.0.0.1 ${port} </dev/null > /reached || true\nCMD ["cat", "/reached"]\n`);
      const built = await bento(["build", "-q", "--network", "host", "-t", "cli-net-host:1", context]);
      expect(built.code).toBe(0);
      expect(await bento(["run", "--rm", "cli-net-host:1"])).toMatchObject({ code: 0, stdout: "host-secret\n" });
      expect(await bento(["rmi", "cli-net-host:1"])).toMatchObject({ code: 0 });
      const refused = await bento(["build", "--network", "bridge", context]);
      expect(refused.code).toBe(125);
      expect(refused.stderr).toContain("--network bridge: a build's RUN steps take default, host or none");
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("compose up runs the services in the foreground with prefixed output; compose down stops another compose up", async () => {
    const context = busyboxContext();
    expect((await bento(["build", "-q", "-t", "cli-busybox:1", context])).code).toBe(0);
    const project = mkdtempSync(join(testRoot, "cli-compose-"));
    writeFileSync(
      join(project, "compose.yaml"),
      `name: clishort
services:
  first:
    image: cli-busybox:1
    command: ["sh", "-c", "echo one; sleep 0.5; echo two"]
  second:
    image: cli-busybox:1
    command: ["sh", "-c", "echo three >&2"]
    depends_on: [first]
`,
    );
    const up = await bento(["compose", "up"], { cwd: project });
    expect(up.code).toBe(0);
    expect(up.stdout).toBe("first  | one\nfirst  | two\n");
    expect(up.stderr).toContain("second | three\n");
    expect(up.stderr).toContain("first: started\n");
    expect(await ps()).toEqual([]);

    writeFileSync(
      join(project, "long.yaml"),
      `name: clilong
services:
  server:
    image: cli-busybox:1
    command: ["sleep", "1000"]
    volumes: ["state:/state"]
volumes:
  state: {}
`,
    );
    const longUp = bentoChild(["compose", "-f", join(project, "long.yaml"), "up"]);
    const longUpExit = once(longUp, "exit") as Promise<[number | null, string | null]>;
    const rows = await running();
    expect(rows, JSON.stringify(longUp.output)).toMatchObject([{ name: "clilong-server-1", status: "running" }]);
    made.push(rows[0]!.id);
    const down = await bento(["compose", "down", "-v", "-f", join(project, "long.yaml")]);
    expect(down.code).toBe(0);
    expect(down.stderr).toBe(`bento: asking bento compose up (process ${longUp.pid}) to stop\n`);
    expect(down.stdout).toBe("clilong-server-1: removed\nvolume clilong_state: removed\n");
    const [code, signal] = await longUpExit;
    // Its exit hooks removed the stack, then it ended by the SIGTERM it was sent (143 in a shell).
    expect([code, signal]).toEqual([null, "SIGTERM"]);
    expect(await ps()).toEqual([]);
  });
});
