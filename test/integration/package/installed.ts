/**
 * A user's project with bento installed as npm would install it: the package's `files` (dist
 * compiled from src with tsconfig.build.json, the rest linked from this checkout) under
 * node_modules/bento, next to this checkout's other packages, and a tsconfig as the README
 * tells users to write it. The README tests type-check and run code there, through the
 * package's `exports` map as a user's imports go.
 */
import { execFile } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);
export const repo = join(import.meta.dirname, "../../..");

/** The tsconfig.json the README asks for (`await using` needs the disposable lib). */
export const userTsconfig = {
  compilerOptions: {
    target: "ES2022",
    lib: ["ES2022", "ESNext.Disposable"],
    module: "NodeNext",
    moduleResolution: "NodeNext",
    strict: true,
    skipLibCheck: true,
    noEmit: true,
    types: ["node"],
  },
};

/** Makes the project in `dir` and returns it. */
export async function installedProject(dir: string): Promise<string> {
  const pkg = JSON.parse(readFileSync(join(repo, "package.json"), "utf8")) as { files: string[] };
  const bento = join(dir, "node_modules/bento");
  mkdirSync(bento, { recursive: true });
  for (const entry of readdirSync(join(repo, "node_modules"))) {
    if (entry !== ".bin" && entry !== "bento") symlinkSync(join(repo, "node_modules", entry), join(dir, "node_modules", entry));
  }
  writeFileSync(join(bento, "package.json"), readFileSync(join(repo, "package.json")));
  for (const file of pkg.files) {
    if (file === "dist") continue;
    mkdirSync(dirname(join(bento, file)), { recursive: true });
    symlinkSync(join(repo, file), join(bento, file));
  }
  // What the install hook leaves without prebuilt binaries: the addon and shim node-gyp built.
  symlinkSync(join(repo, "build"), join(bento, "build"));
  await execFileAsync(process.execPath, [join(repo, "node_modules/typescript/bin/tsc"), "-p", join(repo, "tsconfig.build.json"), "--outDir", join(bento, "dist")], { cwd: repo });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "user-project", type: "module", private: true }));
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(userTsconfig, null, 2));
  return dir;
}

/** The README's TypeScript code blocks, in order. */
export function readmeSnippets(): string[] {
  const readme = readFileSync(join(repo, "README.md"), "utf8");
  return [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

/**
 * A snippet as a module of its own: the README's short blocks use `Image`, `Container`... without
 * importing them, and `image` for "your image"; those get an import and a declaration.
 */
export function asModule(snippet: string, bentoExports: readonly string[]): string {
  const imported = new Set([...snippet.matchAll(/import\s+(?:type\s+)?\{([^}]*)\}/g)].flatMap((m) => m[1]!.split(",").map((n) => n.replace(/^\s*type\s+/, "").trim())));
  const used = bentoExports.filter((name) => !imported.has(name) && new RegExp(`\\b${name}\\b`).test(snippet));
  const lines = [];
  if (used.length > 0) lines.push(`import { ${used.join(", ")} } from "bento";`);
  if (/\bimage\b/.test(snippet) && !/\b(const|let)\s+image\b/.test(snippet)) lines.push('declare const image: import("bento").Image;');
  return [...lines, snippet, "export {};", ""].join("\n");
}

/** The value and type names `bento` exports (src/index.ts's export lists). */
export function bentoExports(): string[] {
  const index = readFileSync(join(repo, "src/index.ts"), "utf8");
  return [...index.matchAll(/^export (?:type )?\{([^}]*)\}/gm)].flatMap((m) =>
    m[1]!
      .split(",")
      .map((n) =>
        n
          .replace(/^\s*type\s+/, "")
          .replace(/\s+as\s+.*$/, "")
          .trim(),
      )
      .filter(Boolean),
  );
}
