import "../setup-env.js";
import { afterEach, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { helpersHolding, leftovers } from "../leaks.js";
import { bentoCli, rootlessNotice } from "./helpers.js";

const bento = `${process.execPath} ${bentoCli}`;
const made: string[] = [];

afterEach(() => {
  const ids = made.splice(0);
  expect([...leftovers(ids), ...helpersHolding(ids)]).toEqual([]);
});

describe("bento run -d from a shell script", () => {
  it("starts a service that outlives bento run; exec, logs, inspect, stop, wait and rm reach it from new processes; nothing is left", async () => {
    const script = join(import.meta.dirname, "detached.sh");
    const run = await promisify(execFile)("sh", [script], { env: { ...process.env, BENTO: bento, ROOTFS: busyboxRootfs() } }).catch((error: { stdout: string; stderr: string }) => error);
    const id = /^id ([0-9a-f]{64})$/m.exec(run.stdout)?.[1];
    if (id) made.push(id);
    // bento run -d names the host port it picked; every other step is silent on stderr.
    expect(run.stderr.replaceAll(new RegExp(rootlessNotice.source, "gm"), "")).toMatch(/^bento: 5432\/tcp is published on 127\.0\.0\.1:(\d+) and \[::1\]:\1\n$/);
    expect(run.stdout).toMatch(/^id [0-9a-f]{64}\nowner \d+\nok\n$/);
    // About twenty bento processes, each loading the CLI.
  }, 180_000);
});
