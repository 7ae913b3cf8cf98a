#!/usr/bin/env node
/**
 * Builds dist/: the package's entry points (package.json `exports` and `bin`) bundled with
 * esbuild, sharing code through chunks so every entry point sees the same classes, plus the type
 * declarations from tsc. One file per entry point instead of ~150 modules keeps `import "bento"`
 * close to the cost of bare Node (Node's ES module loader spends most of an import resolving and
 * reading each file); what a call needs later (the build engine, Image.fromHost) stays in chunks
 * loaded by dynamic import. Third-party packages stay external.
 */
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const entryPoints = Object.fromEntries(["index", "testing/vitest", "testing/global-fixtures", "modules/postgres", "modules/redis", "modules/mariadb", "cli/main"].map((p) => [p, join(root, "src", `${p}.ts`)]));
// The demo ships too (dist/demo.js), so an installed package can show it works: node node_modules/bento/dist/demo.js
entryPoints.demo = join(root, "examples/demo.ts");

rmSync(join(root, "dist"), { recursive: true, force: true });
await build({
  entryPoints,
  outdir: join(root, "dist"),
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  packages: "external",
  chunkNames: "chunks/[name]-[hash]",
  sourcemap: "linked",
  keepNames: true,
  logLevel: "warning",
});
// esbuild escapes what lies outside ASCII in strings, not in regular expression literals. One such
// character makes V8 hold and scan its whole chunk as two-byte text (measured: 1.4% more
// instructions for `import "bento"`), so the source writes it as an escape; this keeps it so.
for (const entry of readdirSync(join(root, "dist"), { recursive: true })) {
  if (!entry.endsWith(".js")) continue;
  const lines = readFileSync(join(root, "dist", entry), "utf8").split("\n");
  const at = lines.findIndex((line) => /[^\t\n\r\x20-\x7e]/.test(line));
  if (at >= 0) throw new Error(`dist/${entry}:${at + 1}: a character outside ASCII in the bundle; write it as a \\u escape in the source:\n${lines[at].trim().slice(0, 200)}`);
}
execFileSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", join(root, "tsconfig.build.json"), "--emitDeclarationOnly"], { stdio: "inherit" });
