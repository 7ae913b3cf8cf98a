import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

// At least three test files at a time: integration files mostly wait on the processes they start
// (containers, the CLI, servers), and each has its own store and runtime dir (setup-env.ts).
// Vitest's default, one fewer than the CPUs, ran them one at a time on a 2-CPU machine: the
// integration suite took 730 s there, and 459 s with the unit tests too at three.
const maxWorkers = Math.max(3, availableParallelism() - 1);

// No retries: a flaky test is a bug (see ../shared/STYLE.md section 6).
export default defineConfig({
  test: {
    include: ["test/unit/**/*.test.ts", "test/integration/**/*.test.ts"],
    // Bundles the CLI the CLI tests run (test/global-setup.ts).
    globalSetup: ["test/global-setup.ts"],
    retry: 0,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers,
    reporters: ["default"],
  },
});
