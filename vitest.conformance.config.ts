import { defineConfig } from "vitest/config";

// Third-party corpora, read in place from BENTO_CORPORA (see test/conformance/corpora.ts); kept
// out of `npm test` so a clean clone passes without them. No retries, as in vitest.config.ts.
export default defineConfig({
  test: {
    include: ["test/conformance/**/*.test.ts"],
    retry: 0,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    reporters: ["default"],
  },
});
