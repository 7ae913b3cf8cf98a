/**
 * Gives each integration test file its own store and runtime dir, so parallel files cannot see
 * each other's containers. Imported first by every integration test file.
 */
import { mkdtempSync } from "node:fs";
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
