import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ComposeError } from "../../../src/stack/errors.js";
import { loadCompose } from "../../../src/stack/compose/load.js";
import { InvalidOptionError } from "../../../src/errors.js";
import { Stack } from "../../../src/stack/stack.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "bento-secrets-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

function composeError(fn: () => unknown): ComposeError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ComposeError) return e;
    throw e;
  }
  throw new Error("expected a ComposeError");
}

describe("secrets and configs", () => {
  it("reads the three sources and both syntaxes, with compose's default targets and octal modes", () => {
    const dir = project({ "pw.txt": "hunter2\n" });
    const plan = loadCompose({
      yaml: `
services:
  db:
    image: x
    secrets:
      - pw
      - { source: token, target: api_token, uid: "999", gid: 998, mode: 0400 }
      - { source: pw, target: /etc/pw, mode: "0440" }
    configs:
      - app
      - { source: app, target: /etc/app.conf, mode: 0o644 }
secrets:
  pw: { file: ./pw.txt }
  token: { environment: API_TOKEN }
configs:
  app: { content: "debug=true" }
`,
      env: { API_TOKEN: "t0k3n" },
      projectDir: dir,
      projectName: "p",
    });
    expect(plan.secrets).toEqual({ pw: { file: join(dir, "pw.txt") }, token: { environment: "API_TOKEN", content: "t0k3n" } });
    expect(plan.configs).toEqual({ app: { content: "debug=true" } });
    expect(plan.services.db!.files).toEqual([
      { kind: "secret", source: "pw", target: "/run/secrets/pw", mode: 0o444, path: "services.db.secrets[0]" },
      { kind: "secret", source: "token", target: "/run/secrets/api_token", mode: 0o400, uid: 999, gid: 998, path: "services.db.secrets[1]" },
      { kind: "secret", source: "pw", target: "/etc/pw", mode: 0o440, path: "services.db.secrets[2]" },
      { kind: "config", source: "app", target: "/app", mode: 0o444, path: "services.db.configs[0]" },
      { kind: "config", source: "app", target: "/etc/app.conf", mode: 0o644, path: "services.db.configs[1]" },
    ]);
    expect(plan.unsupported).toEqual([]);
  });

  it("a missing secret file stops up() before anything starts, naming the file, the key path and the fix", async () => {
    const dir = project({ "compose.yaml": "services:\n  db:\n    image: x\n    secrets: [pw]\n  other:\n    image: y\nsecrets:\n  pw:\n    file: ./missing.txt\n" });
    // Loading (and bento compose config) works, as with compose: the file is needed to run db.
    const stack = Stack.fromCompose(join(dir, "compose.yaml"), { env: {} });
    const e = (await stack.up().catch((x: unknown) => x)) as InvalidOptionError;
    expect(e).toBeInstanceOf(InvalidOptionError);
    expect(e.option).toBe("secrets.pw.file");
    expect(e.message).toBe(`secrets.pw.file: the file "${join(dir, "missing.txt")}" (used by services.db.secrets[0]) does not exist or is not a file; create it, or fix the path in the compose file`);
  });

  it("refuses references to undeclared secrets, unset variables, several sources and bad modes", () => {
    const load = (yaml: string) => composeError(() => loadCompose({ yaml, env: {}, projectDir: "/proj", projectName: "p" }));
    expect(load("services:\n  a:\n    image: x\n    secrets: [nope]\n").message).toMatch(/services\.a\.secrets\[0\]: refers to the undefined secret "nope"; declare it under the top-level secrets key/);
    expect(load("services:\n  a:\n    image: x\n    configs: [{ source: nope }]\n").path).toBe("services.a.configs[0].source");
    expect(load("services:\n  a:\n    image: x\nsecrets:\n  s: { environment: UNSET_VAR }\n").message).toMatch(/secrets\.s\.environment: the variable "UNSET_VAR" is not set/);
    expect(load("services:\n  a:\n    image: x\nconfigs:\n  c: { content: a, environment: B }\n").message).toMatch(/configs\.c: has 2 sources \(environment, content\): give exactly one/);
    expect(load("services:\n  a:\n    image: x\nconfigs:\n  c: {}\n").message).toMatch(/configs\.c: has no source/);
    expect(load('services:\n  a:\n    image: x\n    configs: [{ source: c, mode: "rw" }]\nconfigs:\n  c: { content: a }\n').message).toMatch(/mode: "rw" is not a file mode; write it in octal/);
  });
});
