import { defineConfig } from "vitest/config";

// No retries: a flaky test is a bug (see ../shared/STYLE.md section 6).
export default defineConfig({
  test: {
    include: ["test/unit/**/*.test.ts", "test/integration/**/*.test.ts"],
    retry: 0,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    reporters: ["default"],
  },
});
