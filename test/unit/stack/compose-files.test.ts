import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ComposeError } from "../../../src/stack/errors.js";
import { loadCompose } from "../../../src/stack/compose/load.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "bento-files-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
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

const base = `
services:
  web:
    image: web:1
    command: ["serve", "--port", "80"]
    environment: ["A=1", "B=2"]
    ports: ["8080:80"]
    volumes: ["./data:/data", "cache:/cache"]
    labels: { team: a }
volumes:
  cache:
`;
const override = `
services:
  web:
    image: web:2
    command: ["serve", "--debug"]
    environment: { B: "3", C: "4" }
    ports: ["9090:90"]
    volumes: ["./other:/data"]
    labels: [tier=front]
  extra:
    image: extra
`;

describe("several files", () => {
  it("merges -f files in order as compose does; relative paths start at the first file's directory", () => {
    const dir = project({ "compose.yaml": base, "sub/more.yaml": override });
    const plan = loadCompose([join(dir, "compose.yaml"), join(dir, "sub/more.yaml")], { env: {} });
    const web = plan.services.web!;
    expect(plan.services.web).toBeDefined();
    expect(Object.keys(plan.services)).toEqual(["web", "extra"]);
    expect(web.image).toBe("web:2");
    expect(web.options.command).toEqual(["serve", "--debug"]);
    expect(web.options.env).toEqual({ A: "1", B: "3", C: "4" });
    expect(web.options.labels).toEqual({ team: "a", tier: "front" });
    expect(web.options.ports).toEqual([
      { container: 80, host: 8080, protocol: "tcp" },
      { container: 90, host: 9090, protocol: "tcp" },
    ]);
    expect(web.volumes.map((v) => [v.source, v.target])).toEqual([
      [join(dir, "other"), "/data"],
      ["cache", "/cache"],
    ]);
  });

  it("picks compose.override.yaml up next to compose.yaml (given the file or its directory), unless override is false", () => {
    const dir = project({ "compose.yaml": base, "compose.override.yaml": override });
    expect(loadCompose(join(dir, "compose.yaml"), { env: {} }).services.web!.image).toBe("web:2");
    expect(loadCompose(dir, { env: {} }).services.web!.image).toBe("web:2");
    expect(loadCompose(join(dir, "compose.yaml"), { env: {}, override: false }).services.web!.image).toBe("web:1");
    // Only a default file name has an override: a named file is taken alone.
    const other = project({ "stack.yaml": base, "stack.override.yaml": override });
    expect(loadCompose(join(other, "stack.yaml"), { env: {} }).services.web!.image).toBe("web:1");
  });

  it("names the override file and line of a bad value it sets", () => {
    const dir = project({ "compose.yaml": base, "compose.override.yaml": 'services:\n  web:\n    ports: ["99999:80"]\n' });
    const e = composeError(() => loadCompose(join(dir, "compose.yaml"), { env: {} }));
    expect(e.file).toBe(join(dir, "compose.override.yaml"));
    expect(e.path).toBe("services.web.ports[1]");
  });
});

describe("include", () => {
  it("adds the included file's services, with paths relative to the included file", () => {
    const dir = project({
      "compose.yaml": "include:\n  - db/compose.yaml\nservices:\n  web:\n    image: web\n    depends_on: [db]\n",
      "db/compose.yaml": 'services:\n  db:\n    build: ./image\n    volumes: ["./init:/init"]\n    secrets: [pw]\nsecrets:\n  pw:\n    file: ./pw.txt\n',
      "db/pw.txt": "x",
    });
    const plan = loadCompose(join(dir, "compose.yaml"), { env: {} });
    expect(Object.keys(plan.services).sort()).toEqual(["db", "web"]);
    expect(plan.services.db!.build?.context).toBe(join(dir, "db/image"));
    expect(plan.services.db!.volumes[0]!.source).toBe(join(dir, "db/init"));
    expect(plan.secrets.pw).toEqual({ file: join(dir, "db/pw.txt") });
  });

  it("refuses a resource defined both in a file and in what it includes, and include cycles", () => {
    const dir = project({ "compose.yaml": "include: [other.yaml]\nservices:\n  db:\n    image: a\n", "other.yaml": "services:\n  db:\n    image: b\n" });
    const e = composeError(() => loadCompose(join(dir, "compose.yaml"), { env: {} }));
    expect(e.path).toBe("include[0]");
    expect(e.message).toMatch(/services\.db is defined both here and in the included other\.yaml; rename one/);
    const cyc = project({ "compose.yaml": "include: [b.yaml]\nservices:\n  a:\n    image: a\n", "b.yaml": "include: [compose.yaml]\nservices:\n  b:\n    image: b\n" });
    expect(composeError(() => loadCompose(join(cyc, "compose.yaml"), { env: {} })).message).toMatch(/include cycle: compose\.yaml -> b\.yaml -> compose\.yaml/);
  });
});

describe("extends", () => {
  it("builds a service on another of the same file or of another file, whose paths stay its own", () => {
    const dir = project({
      "compose.yaml": `
services:
  base:
    image: app
    environment: { MODE: base, LEVEL: "1" }
    cap_add: [NET_ADMIN]
  web:
    extends: base
    environment: { MODE: web }
    command: ["web"]
  worker:
    extends: { file: common/services.yaml, service: worker }
    environment: { LEVEL: "3" }
`,
      "common/services.yaml": 'services:\n  worker:\n    extends: job\n    command: ["work"]\n  job:\n    build: ./job\n    env_file: [job.env]\n',
      "common/job.env": "FROM_FILE=yes\n",
    });
    const plan = loadCompose(join(dir, "compose.yaml"), { env: {} });
    expect(plan.services.web!.image).toBe("app");
    expect(plan.services.web!.options.env).toEqual({ MODE: "web", LEVEL: "1" });
    expect(plan.services.web!.options.capAdd).toEqual(["NET_ADMIN"]);
    expect(plan.services.web!.options.command).toEqual(["web"]);
    expect(plan.services.worker!.build?.context).toBe(join(dir, "common/job"));
    expect(plan.services.worker!.options.command).toEqual(["work"]);
    expect(plan.services.worker!.options.env).toEqual({ FROM_FILE: "yes", LEVEL: "3" });
    expect(plan.unsupported).toEqual([]);
  });

  it("a cycle through extends is an error naming the file, the key path, the chain and the fix", () => {
    const dir = project({ "compose.yaml": "services:\n  a:\n    image: x\n    extends: b\n  b:\n    extends: { service: c }\n  c:\n    extends: a\n" });
    const e = composeError(() => loadCompose(join(dir, "compose.yaml"), { env: {} }));
    expect(e.file).toBe(join(dir, "compose.yaml"));
    expect(e.path).toBe("services.c.extends");
    expect(e.message).toMatch(/extends cycle: a -> b -> c -> a; a service cannot extend itself, even through others: remove one of these extends/);
    const other = project({ "compose.yaml": "services:\n  a:\n    extends: { file: b.yaml, service: b }\n", "b.yaml": "services:\n  b:\n    extends: { file: compose.yaml, service: a }\n" });
    expect(composeError(() => loadCompose(join(other, "compose.yaml"), { env: {} })).message).toMatch(/extends cycle: a -> b \(.*b\.yaml\) -> a/);
  });

  it("an undefined service or file is an error with the fix", () => {
    expect(composeError(() => loadCompose({ yaml: "services:\n  a:\n    extends: nope\n", env: {} })).message).toMatch(/services\.a\.extends: extends the undefined service "nope"; define it, or fix the name \(services there: a\)/);
    const dir = project({ "compose.yaml": "services:\n  a:\n    extends: { file: missing.yaml, service: b }\n" });
    const e = composeError(() => loadCompose(join(dir, "compose.yaml"), { env: {} }));
    expect(e.path).toBe("services.a.extends.file");
    expect(e.line).toBe(3);
    expect(e.message).toMatch(/cannot read the compose file ".*missing\.yaml" \(ENOENT\); check the path/);
  });
});
