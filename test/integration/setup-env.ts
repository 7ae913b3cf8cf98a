/**
 * Gives each integration test file its own store and runtime dir, so parallel files cannot see
 * each other's containers. Imported first by every integration test file.
 */
import { afterAll } from "vitest";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = mkdtempSync(join(tmpdir(), "bento-it-"));
process.env.BENTO_HOME ??= join(root, "home");
process.env.BENTO_RUNTIME_DIR ??= join(root, "run");
// Tests never reach out to a registry they did not start themselves.
process.env.BENTO_PULL_POLICY ??= "never";

/**
 * True as root; false in the rootless run, where every test runs too (in a user namespace) and
 * a test of a root-only feature asserts the rootless error instead.
 */
export const isRoot = process.getuid?.() === 0;
export const testRoot = root;

// The file's store and runtime dirs go with it (its tests removed their containers already, and
// checked that they did); an image store of a build test can weigh hundreds of MB. Rootless,
// files that container users made belong to subordinate ids: the user namespace removes them.
afterAll(async () => {
  // A detached container outlives the process that started it by design: one that a failed test
  // did not get to remove would run on after the run. Kill and remove whatever this file left.
  // (Imported here: setup-env must set the environment before any bento module loads.)
  const { listMachineContainers, removeMachineContainer } = await import("../../src/runtime/machine-containers.js");
  // Only those with state in this file's runtime dir: the module tests share one BENTO_HOME, whose
  // containers dir also lists other files' running servers (removing those crashed them mid-test).
  for (const c of listMachineContainers()) if (c.record !== undefined) await removeMachineContainer(c, { force: true }).catch(() => undefined);
  // So does the keeper of a network (bento network create) a failed test did not remove: SIGTERM
  // makes it remove the network (its containers are gone now) and end.
  const { listNetworkRecords } = await import("../../src/network/network-records.js");
  for (const n of listNetworkRecords()) {
    process.kill(n.keeperPid, "SIGTERM");
    for (const end = Date.now() + 10_000; Date.now() < end && existsSync(`/proc/${n.keeperPid}`); ) await new Promise((r) => setTimeout(r, 20));
  }
  try {
    rmSync(root, { recursive: true, force: true });
  } catch (error) {
    if (isRoot) throw error;
    const { removeAsNamespaceRoot } = await import("../../src/runtime/user-namespace.js");
    await removeAsNamespaceRoot([root]);
  }
});
