import { describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { progressLine } from "../../../src/cli/build-progress-line.js";
import { commands, mainUsage, runCli } from "../../../src/cli/cli.js";
import { describeError } from "../../../src/cli/command.js";
import { composeFile } from "../../../src/cli/compose.js";
import { imagesTable } from "../../../src/cli/images.js";
import { psTable } from "../../../src/cli/ps.js";
import { volumesTable } from "../../../src/cli/volume.js";
import { formatAgo, formatBytes, formatTable, shortId } from "../../../src/cli/table.js";
import { BentoError } from "../../../src/errors.js";
import type { Digest } from "../../../src/store/digest.js";
import type { ImageSummary } from "../../../src/store/types.js";
import type { MachineContainer } from "../../../src/runtime/machine-containers.js";
import { scratchDir } from "../scratch.js";

const now = new Date("2025-01-01T12:00:00Z");
const ago = (seconds: number) => new Date(now.getTime() - seconds * 1000);

describe("formatTable", () => {
  it("aligns columns three spaces apart and leaves the last column unpadded", () => {
    expect(
      formatTable(
        ["ID", "NAME", "STATUS"],
        [
          ["abc", "web", "running"],
          ["d", "a-long-name", "left behind"],
        ],
      ),
    ).toBe("ID    NAME          STATUS\n" + "abc   web           running\n" + "d     a-long-name   left behind\n");
  });

  it("prints the header alone when there are no rows, and pads missing cells", () => {
    expect(formatTable(["A", "B"], [])).toBe("A   B\n");
    expect(formatTable(["A", "B", "C"], [["x"]])).toBe("A   B   C\nx\n");
  });
});

describe("human values", () => {
  it("formats sizes in decimal units as docker does", () => {
    expect([0, 999, 1000, 1234, 56_789, 340_053, 7_812_345, 1_234_567_890].map(formatBytes)).toEqual(["0B", "999B", "1kB", "1.23kB", "56.8kB", "340kB", "7.81MB", "1.23GB"]);
  });

  it("says how long ago, in docker's words", () => {
    expect([0.2, 1, 5, 59, 60, 119, 150, 3000, 3600, 5400, 7200, 86400 * 3, 86400 * 20, 86400 * 90, 86400 * 800].map((s) => formatAgo(ago(s), now))).toEqual([
      "Less than a second ago",
      "1 second ago",
      "5 seconds ago",
      "59 seconds ago",
      "About a minute ago",
      "About a minute ago",
      "2 minutes ago",
      "50 minutes ago",
      "About an hour ago",
      "2 hours ago",
      "2 hours ago",
      "3 days ago",
      "2 weeks ago",
      "3 months ago",
      "2 years ago",
    ]);
    expect(formatAgo(undefined, now)).toBe("-");
    expect(formatAgo(new Date(now.getTime() + 5000), now)).toBe("Less than a second ago");
  });

  it("shortens ids", () => {
    expect(shortId("sha256:0123456789abcdef0123")).toBe("0123456789ab");
    expect(shortId("fedcba9876543210fedc")).toBe("fedcba987654");
  });
});

function container(fields: Partial<MachineContainer>): MachineContainer {
  return {
    id: "a".repeat(64),
    name: "web",
    status: "running",
    ownerPid: 4242,
    ownerAlive: true,
    detached: false,
    exit: undefined,
    createdAt: ago(5),
    imageId: undefined,
    labels: {},
    volumes: [],
    pids: [1],
    containerDir: "/x",
    logPath: "/x/container.log",
    record: undefined,
    ...fields,
  };
}

describe("command tables", () => {
  it("ps: ID, NAME, STATUS, OWNER PID, CREATED", () => {
    expect(
      psTable(
        [
          container({}),
          container({ id: "b".repeat(64), name: "db", status: "left-behind", ownerAlive: false, createdAt: ago(7200) }),
          container({ id: "c".repeat(64), name: "old", status: "left-behind", ownerPid: undefined, createdAt: undefined }),
        ],
        now,
      ),
    ).toBe(
      "ID             NAME   STATUS        OWNER PID   CREATED\n" +
        "aaaaaaaaaaaa   web    running       4242        5 seconds ago\n" +
        "bbbbbbbbbbbb   db     left behind   4242        2 hours ago\n" +
        "cccccccccccc   old    left behind   -           -\n",
    );
  });

  it("images: REPOSITORY, TAG, IMAGE ID, CREATED, SIZE", () => {
    const image: ImageSummary = {
      repository: "alpine",
      tag: "3.20",
      id: `sha256:${"1".repeat(64)}` as Digest,
      manifestDigest: `sha256:${"2".repeat(64)}` as Digest,
      repoTags: ["alpine:3.20"],
      created: ago(86400 * 3).toISOString(),
      sizeBytes: 3_600_000,
    };
    expect(imagesTable([image, { ...image, repository: "<none>", tag: "<none>", created: undefined, sizeBytes: 512 }], now)).toBe(
      "REPOSITORY   TAG      IMAGE ID       CREATED      SIZE\n" + "alpine       3.20     111111111111   3 days ago   3.6MB\n" + "<none>       <none>   111111111111   -            512B\n",
    );
  });

  it("volume ls: NAME, CREATED, ANONYMOUS, USED BY", () => {
    expect(
      volumesTable(
        [
          { name: "pgdata", labels: {}, createdAt: ago(60).toISOString(), anonymous: false, usedBy: ["db", "backup"] },
          { name: "f00", labels: {}, createdAt: ago(2).toISOString(), anonymous: true, usedBy: [] },
        ],
        now,
      ),
    ).toBe("NAME     CREATED              ANONYMOUS   USED BY\n" + "pgdata   About a minute ago   no          db, backup\n" + "f00      2 seconds ago        yes         -\n");
  });

  it("build progress lines", () => {
    expect(progressLine({ type: "step", step: 2, total: 5, stage: "build", instruction: "RUN make", cached: false, reason: "files changed: Makefile" })).toBe("[build] step 2/5: RUN make (files changed: Makefile)");
    expect(progressLine({ type: "step", step: 1, total: 5, stage: "0", instruction: "FROM alpine", cached: true })).toBe("[0] step 1/5: FROM alpine (cached)");
    expect(progressLine({ type: "step", step: 3, total: 5, stage: "0", instruction: "RUN make", cached: true, cacheRef: "reg.example/app:cache" })).toBe("[0] step 3/5: RUN make (cached, from reg.example/app:cache)");
    expect(progressLine({ type: "warning", message: "registry build cache reg.example/app:cache not used: unreachable" })).toBe("warning: registry build cache reg.example/app:cache not used: unreachable");
    expect(progressLine({ type: "output", step: 2, text: "compiling\n" })).toBe("  compiling");
    expect(progressLine({ type: "image", id: `sha256:${"f".repeat(64)}`, cachedSteps: 1, total: 5, durationMs: 2500 })).toBe("built ffffffffffff (1/5 steps cached) in 2.5s");
    expect(progressLine({ type: "something-new" })).toBeUndefined();
  });
});

describe("errors and usage", () => {
  it("prints a message alone, or with BENTO_DEBUG its stack and causes", () => {
    const error = new BentoError("ERR_X", "it broke", { cause: new Error("the root") });
    expect(describeError(error, false)).toBe("bento: it broke\n");
    const debug = describeError(error, true);
    expect(debug).toMatch(/^bento: BentoError: it broke\n\s+at /);
    expect(debug).toMatch(/\ncaused by: Error: the root\n\s+at /);
    expect(describeError("a string", false)).toBe("bento: a string\n");
  });

  it("lists every command in the main usage", () => {
    expect(commands.map((c) => c.name)).toEqual(expect.arrayContaining(["ps", "images", "logs", "rm", "prune", "volume", "run", "build", "compose", "doctor", "inspect", "pull", "push", "tag", "rmi", "save", "load", "history", "system"]));
    for (const c of commands) expect(mainUsage()).toContain(`  ${c.name} `);
  });

  it("exits 125 (as docker) for no command, an unknown command or a bad flag; 0 for help", async () => {
    const io = () => {
      const out = { stdout: "", stderr: "" };
      return { out, io: { stdout: { write: (s: string) => (out.stdout += s) }, stderr: { write: (s: string) => (out.stderr += s) } } };
    };
    const none = io();
    expect(await runCli([], none.io)).toBe(125);
    expect(none.out.stderr).toBe(mainUsage());
    const unknown = io();
    expect(await runCli(["frobnicate"], unknown.io)).toBe(125);
    expect(unknown.out.stderr).toMatch(/^bento: unknown command "frobnicate"\n\nUsage: bento COMMAND/);
    const badFlag = io();
    expect(await runCli(["images", "--all-the-things"], badFlag.io)).toBe(125);
    expect(badFlag.out.stderr).toMatch(/^bento: unknown option --all-the-things\n\nUsage: bento images/);
    const help = io();
    expect(await runCli(["--help"], help.io)).toBe(0);
    expect(help.out.stdout).toBe(mainUsage());
  });

  it("finds the default compose file, or says which names it looked for", () => {
    const dir = scratchDir("bento-cli-unit-");
    expect(() => composeFile(undefined, dir)).toThrow(/no compose file in .* \(looked for compose\.yaml, compose\.yml, docker-compose\.yaml, docker-compose\.yml\); give one with -f/);
    writeFileSync(join(dir, "docker-compose.yml"), "services: {}\n");
    expect(composeFile(undefined, dir)).toBe(join(dir, "docker-compose.yml"));
    writeFileSync(join(dir, "compose.yaml"), "services: {}\n");
    expect(composeFile(undefined, dir)).toBe(join(dir, "compose.yaml"));
    expect(composeFile(["other.yml"], dir)).toEqual([join(dir, "other.yml")]);
    expect(composeFile(["a.yml", "/b.yml"], dir)).toEqual([join(dir, "a.yml"), "/b.yml"]);
  });
});

describe("every command's --help", () => {
  it("prints its usage on stdout with its options, and exits 0", async () => {
    for (const command of commands) {
      const out = { stdout: "", stderr: "" };
      const io = { stdout: { write: (s: string) => (out.stdout += s) }, stderr: { write: (s: string) => (out.stderr += s) } };
      expect({ name: command.name, code: await runCli([command.name, "--help"], io) }).toEqual({ name: command.name, code: 0 });
      expect(out.stdout, command.name).toMatch(new RegExp(`^Usage: bento ${command.name}\\b`));
      expect(out.stdout, command.name).toMatch(/^Options( of [a-z]+)?:\n(.|\n)*-h, --help/m);
      expect(out.stderr, command.name).toBe("");
    }
  });
});
