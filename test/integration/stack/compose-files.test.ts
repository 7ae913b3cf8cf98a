import "../setup-env.js";
import { testRoot } from "../setup-env.js";
import { describe, expect, it } from "vitest";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { Stack } from "../../../src/stack/stack.js";
import { busybox, checkNothingLeaks, recorder } from "./stack-checks.js";

checkNothingLeaks();

function write(dir: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
}

describe(`compose files: override, include, extends`, () => {
  it("runs what compose.yaml, its override, an included file and extends add up to", async () => {
    const dir = join(testRoot, `files-${process.pid}`);
    write(dir, {
      "compose.yaml": `
include:
  - cache/compose.yaml
services:
  app:
    extends: { file: common.yaml, service: base }
    command: ["sleep", "60"]
    environment: { MODE: file }
    volumes: ["./conf:/conf:ro"]
    depends_on: [cache]
`,
      "compose.override.yaml": "services:\n  app:\n    environment: { MODE: override }\n",
      "common.yaml": "services:\n  base:\n    image: bb\n    environment: { LEVEL: base, ORIGIN: common }\n",
      "conf/app.conf": "from the project dir\n",
      "cache/compose.yaml": 'services:\n  cache:\n    image: bb\n    command: ["sleep", "60"]\n    volumes: ["./seed:/seed:ro"]\n',
      "cache/seed/data": "from the included dir\n",
    });
    const rec = recorder();
    const running = await Stack.fromCompose(join(dir, "compose.yaml"), { env: {}, projectName: `files-${process.pid}`, images: { bb: busybox() } }).up({ timeoutMs: 30_000, onProgress: rec.onProgress });
    try {
      const out = async (service: string, script: string) => (await running.service(service).exec(["sh", "-c", script])).stdout;
      expect(running.services).toEqual(["cache", "app"]);
      // exec sees the service's environment (a file the command wrote could still be unwritten).
      expect(await out("app", "echo $MODE $LEVEL $ORIGIN; cat /conf/app.conf")).toBe("override base common\nfrom the project dir\n");
      expect(await out("cache", "cat /seed/data")).toBe("from the included dir\n");
    } finally {
      await running.down({ timeoutMs: 1_000 });
    }
  });
});
