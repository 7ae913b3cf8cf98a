import "../setup-env.js";
import { afterEach, describe, expect, it } from "vitest";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { helpersHolding, leftovers } from "../leaks.js";
import { bento } from "./helpers.js";

const made: string[] = [];

afterEach(async () => {
  const ids = made.splice(0);
  expect([...leftovers(ids), ...helpersHolding(ids)]).toEqual([]);
  expect((await bento(["ps", "-a", "-q"])).stdout).toBe("");
});

/** One row: the arguments (CONTAINER stands for a running detached container), the exit code, and why. */
type Row = [args: string[], code: number, why: string];

describe("exit codes, as docker's", () => {
  it("125 for bento's own errors, 126 and 127 for a command that cannot run, else the container's; 1 for other failed operations", async () => {
    const rootfs = busyboxRootfs();
    const started = await bento(["run", "-d", "--name", "codes", rootfs, "sleep", "1000"]);
    expect(started.code).toBe(0);
    made.push(started.stdout.trim());
    const rows: Row[] = [
      [["frobnicate"], 125, "an unknown command"],
      [[], 125, "no command"],
      [["run", "--bogus", rootfs], 125, "an unknown flag"],
      [["run"], 125, "a missing argument"],
      [["run", "no-such-image:1", "true"], 125, "an image not in the store"],
      [["run", "/no/such/rootfs", "true"], 125, "a missing root filesystem"],
      [["run", rootfs, "no-such-command"], 127, "a command that is not found"],
      [["run", rootfs, "/etc"], 126, "a command that cannot be run (a directory)"],
      [["run", rootfs, "sh", "-c", "exit 7"], 7, "the container's exit code"],
      [["run", rootfs, "true"], 0, "success"],
      [["exec", "no-such-container", "true"], 125, "an unknown container"],
      [["exec", "--bogus", "CONTAINER", "true"], 125, "an unknown exec flag"],
      [["exec", "CONTAINER", "no-such-command"], 127, "an exec'd command that is not found"],
      [["exec", "CONTAINER", "/etc"], 126, "an exec'd command that cannot be run"],
      [["exec", "CONTAINER", "sh", "-c", "exit 3"], 3, "the exec'd command's exit code"],
      [["logs", "no-such-container"], 1, "an unknown container (docker logs exits 1)"],
      [["stop", "no-such-container"], 1, "an unknown container (docker stop exits 1)"],
      [["rm", "no-such-container"], 1, "an unknown container (docker rm exits 1)"],
      [["inspect", "no-such-container"], 1, "an unknown object (docker inspect exits 1)"],
      [["ps", "--bogus"], 125, "an unknown ps flag"],
      [["compose", "frobnicate"], 125, "an unknown compose command"],
      [["compose", "-f", "/no/such/compose.yaml", "ps"], 1, "a missing compose file"],
    ];
    const results: { args: string[]; code: number | null; why: string }[] = [];
    // Two at a time, as many as this machine's cores.
    for (let i = 0; i < rows.length; i += 2) {
      const batch = rows.slice(i, i + 2);
      const codes = await Promise.all(batch.map(([args]) => bento(args.map((a) => (a === "CONTAINER" ? "codes" : a)))));
      results.push(...batch.map(([args, , why], j) => ({ args, code: codes[j]!.code, why })));
    }
    expect(results).toEqual(rows.map(([args, code, why]) => ({ args, code, why })));
    expect((await bento(["rm", "-f", "codes"])).code).toBe(0);
  }, 240_000);
});
