/**
 * Gives each integration test file its own store and runtime dir, so parallel files cannot see
 * each other's containers. Imported first by every integration test file.
 */
import { afterAll } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = mkdtempSync(join(tmpdir(), "bento-it-"));
process.env.BENTO_HOME ??= join(root, "home");
process.env.BENTO_RUNTIME_DIR ??= join(root, "run");
// Tests never reach out to a registry they did not start themselves.
process.env.BENTO_PULL_POLICY ??= "never";

/** True when this process may create namespaces, cgroups and mounts. */
export const isRoot = process.getuid?.() === 0;
/** Why privileged tests are skipped when they are. */
export const skipReason = "integration tests create namespaces, cgroups and mounts: run them as root";
export const testRoot = root;

// The file's store and runtime dirs go with it (its tests removed their containers already, and
// checked that they did); an image store of a build test can weigh hundreds of MB.
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});
