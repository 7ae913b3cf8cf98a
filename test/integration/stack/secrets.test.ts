import "../setup-env.js";
import { testRoot } from "../setup-env.js";
import { describe, expect, it } from "vitest";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Stack } from "../../../src/stack/stack.js";
import { onlyRootInContainers, unmappedUserError } from "../rootless.js";
import { busybox, checkNothingLeaks, recorder } from "./stack-checks.js";

checkNothingLeaks();

describe(`compose secrets and configs`, () => {
  it("mounts each secret and config read-only with its bytes, owner and mode; a healthcheck reads one", async () => {
    const dir = join(testRoot, `secrets-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "db_password.txt"), "hunter2\n");
    writeFileSync(
      join(dir, "compose.yaml"),
      `
services:
  db:
    image: bb
    command: ["sh", "-c", "exec sleep 60"]
    environment:
      POSTGRES_PASSWORD_FILE: /run/secrets/db_password
    secrets:
      - db_password
      - source: api_token
        target: token
        uid: "999"
        gid: "998"
        mode: 0400
    configs:
      - source: app
        target: /etc/app/app.conf
        mode: 0440
    healthcheck:
      test: ["CMD-SHELL", "grep -q hunter2 \\"$$POSTGRES_PASSWORD_FILE\\""]
      interval: 100ms
      retries: 50
  worker:
    image: bb
    user: "1000:1001"
    command: ["sleep", "60"]
    secrets: [db_password]
    configs: [app]
    depends_on:
      db: { condition: service_healthy }
secrets:
  db_password:
    file: ./db_password.txt
  api_token:
    environment: API_TOKEN
configs:
  app:
    content: |
      debug=true
`,
    );
    const rec = recorder();
    const stack = Stack.fromCompose(join(dir, "compose.yaml"), { env: { API_TOKEN: "t0k3n" }, projectName: `secrets-${process.pid}`, images: { bb: busybox() } });
    if (onlyRootInContainers) {
      // Rootless without a subordinate id range, owner 999 cannot exist: the error says so, and nothing is left.
      await expect(stack.up({ timeoutMs: 30_000 })).rejects.toThrow(unmappedUserError);
      return;
    }
    const running = await stack.up({ timeoutMs: 30_000, onProgress: rec.onProgress });
    try {
      const sh = async (service: string, script: string) => {
        const r = await running.service(service).exec(["sh", "-c", script]);
        return { code: r.exitCode, out: (r.stdout + r.stderr).trim() };
      };
      expect((await running.service("db").inspect()).state.health?.status).toBe("healthy");
      expect(await sh("db", "cat /run/secrets/db_password; stat -c '%a %u %g' /run/secrets/db_password")).toEqual({ code: 0, out: "hunter2\n444 0 0" });
      expect(await sh("db", "cat /run/secrets/token; echo; stat -c '%a %u %g' /run/secrets/token")).toEqual({ code: 0, out: "t0k3n\n400 999 998" });
      expect(await sh("db", "cat /etc/app/app.conf; stat -c '%a %u %g' /etc/app/app.conf")).toEqual({ code: 0, out: "debug=true\n440 0 0" });
      // Read-only, even for root in the container.
      const write = await sh("db", "echo changed > /run/secrets/db_password");
      expect(write.code).not.toBe(0);
      expect(write.out).toMatch(/Read-only file system/);
      // Without uid/gid the files belong to the service's user; a config defaults to /<name>.
      expect(await sh("worker", "id -u; stat -c '%a %u %g' /run/secrets/db_password /app; cat /app")).toEqual({ code: 0, out: "1000\n444 1000 1001\n444 1000 1001\ndebug=true" });
    } finally {
      await running.down({ timeoutMs: 1_000 });
    }
  });
});
