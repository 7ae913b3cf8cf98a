/**
 * The README as code, in a project where bento is installed as a user installs it
 * (installed.ts): every TypeScript block type-checks against the package, the first one (the
 * `await using` example) runs, and a vitest run uses `globalSetup: "bento/vitest/global-setup"`
 * as the README writes it.
 */
import "../setup-env.js";
import { testRoot } from "../setup-env.js";
import { execFile } from "node:child_process";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { config } from "../../../src/config.js";
import { doctor } from "../../../src/runtime/doctor.js";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { leftovers } from "../leaks.js";
import { asModule, bentoExports, installedProject, readmeSnippets, repo } from "./installed.js";

const execFileAsync = promisify(execFile);
const containersDir = () => join(config().runtimeDir, "containers");
const running = () => {
  try {
    return readdirSync(containersDir());
  } catch {
    return [];
  }
};

/** Runs a command in the project, resolving with its status and output (never rejecting on a status). */
async function inProject(dir: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; output: string }> {
  const { FORCE_COLOR: _color, ...inherited } = process.env;
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, args, { cwd: dir, env: { ...inherited, ...env, NO_COLOR: "1" }, timeout: 240_000 });
    return { code: 0, output: stdout + stderr };
  } catch (e) {
    const failed = e as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, output: `${failed.stdout ?? ""}${failed.stderr ?? ""}` };
  }
}

describe(`the README's code, against the package as installed`, () => {
  let project = "";
  const snippets = readmeSnippets();
  beforeAll(async () => {
    project = await installedProject(join(testRoot, "user-project"));
  }, 300_000);

  it("has TypeScript blocks to check, the vitest ones among them", () => {
    expect(snippets.length).toBeGreaterThanOrEqual(5);
    expect(snippets.some((s) => s.includes('"bento/vitest/global-setup"'))).toBe(true);
  });

  it("type-checks every TypeScript block", { timeout: 300_000 }, async () => {
    const names = bentoExports();
    snippets.forEach((snippet, i) => writeFileSync(join(project, `readme-${i + 1}.ts`), asModule(snippet, names)));
    const checked = await inProject(project, [join(repo, "node_modules/typescript/bin/tsc"), "-p", "."]);
    expect(checked.output).toBe("");
    expect(checked.code).toBe(0);
  });

  it("runs the first block (await using) through tsx, and leaves nothing", { timeout: 300_000 }, async () => {
    const before = new Set(running());
    const first = snippets[0]!.replace('"/srv/rootfs"', JSON.stringify(busyboxRootfs()));
    writeFileSync(join(project, "first.ts"), first);
    const ran = await inProject(project, ["--import", "tsx", "first.ts"]);
    // The block sets resources: rootless on a host with no delegated cgroup v2 subtree (as bento
    // doctor reports it), those fail with the way to get delegation, and nothing runs.
    const cgroups = (await doctor()).checks.find((c) => c.name === "cgroups")!;
    if (cgroups.status === "ok") expect(ran.code, ran.output).toBe(0);
    else expect(ran.output).toContain(cgroups.fix!);
    const added = running().filter((id) => !before.has(id));
    expect(added).toEqual([]);
  });

  it('runs vitest with globalSetup: "bento/vitest/global-setup" as written', { timeout: 300_000 }, async () => {
    const left = await leaveOneBehind(project);
    mkdirSync(join(project, "test"), { recursive: true });
    writeFileSync(join(project, "vitest.config.ts"), 'import { defineConfig } from "vitest/config";\nexport default defineConfig({ test: { include: ["test/**/*.test.ts"], globalSetup: "bento/vitest/global-setup" } });\n');
    writeFileSync(join(project, "test/one.test.ts"), 'import { expect, it } from "vitest";\nimport { Image } from "bento";\nit("imports bento", () => expect(typeof Image.fromRootfs).toBe("function"));\n');
    const ran = await inProject(project, [join(repo, "node_modules/vitest/vitest.mjs"), "run"]);
    expect(ran.output).toMatch(/Tests {2}1 passed \(1\)/);
    expect(ran.code, ran.output).toBe(0);
    // The global setup swept the container a killed process had left.
    expect(leftovers([left])).toEqual([]);
  });
});

/** Starts a container from a child process and SIGKILLs it: its files and cgroup stay behind. */
async function leaveOneBehind(project: string): Promise<string> {
  const script = join(project, "leave-behind.ts");
  writeFileSync(
    script,
    `import { Container, Image } from "bento";\nconst c = await new Container(Image.fromRootfs(${JSON.stringify(busyboxRootfs())}), { command: ["sleep", "1000"] }).start();\nconsole.log(c.id);\nprocess.kill(process.pid, "SIGKILL");\n`,
  );
  const ran = await inProject(project, ["--import", "tsx", script]);
  const id = /[0-9a-f]{64}/.exec(ran.output)?.[0];
  expect(id, ran.output).toBeDefined();
  expect(leftovers([id!]).length, "what the killed process left").toBeGreaterThan(0);
  return id!;
}
