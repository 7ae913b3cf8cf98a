/**
 * Loads the compiled addon and finds the helper executable. On failure, says which paths were
 * tried and how to fix it (as sharp and @parcel/watcher do).
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { HostUnsupportedError } from "../errors.js";
import type { NativeAddon } from "./addon.js";

const require = createRequire(import.meta.url);
const packageRoot = findPackageRoot(dirname(fileURLToPath(import.meta.url)));
// A local build wins over the prebuilt binaries the package ships for this platform.
const buildDirs = ["build/Release", "build/Debug", `prebuilds/${process.platform}-${process.arch}`].map((d) => join(packageRoot, d));

let addon: NativeAddon | undefined;
/** The directory the addon was loaded from: its bento-shim is the one beside it. */
let addonDir: string | undefined;

function findPackageRoot(from: string): string {
  let dir = from;
  while (!existsSync(join(dir, "package.json")) || !existsSync(join(dir, "binding.gyp"))) {
    const parent = dirname(dir);
    if (parent === dir) return resolve(from, "..", "..");
    dir = parent;
  }
  return dir;
}

function fixHint(): string {
  return `Possible solutions:\n- Build it: run "npm install" (or "npx node-gyp rebuild") in ${packageRoot}\n- Check that g++, make and python3 are installed (prebuilt binaries ship for linux-x64 and linux-arm64 with glibc)\n- bento runs on Linux only`;
}

/** The addon, loaded once. Throws HostUnsupportedError naming every path tried. */
export function loadAddon(): NativeAddon {
  if (addon) return addon;
  if (process.platform !== "linux") throw new HostUnsupportedError(`bento runs containers on Linux only (this is ${process.platform})`);
  const tried: string[] = [];
  for (const dir of buildDirs) {
    const file = join(dir, "bento.node");
    try {
      addon = require(file) as NativeAddon;
      addonDir = dir;
      return addon;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      tried.push(code === "MODULE_NOT_FOUND" ? `${file} (not found)` : `${file} (${(error as Error).message})`);
    }
  }
  throw new HostUnsupportedError(`cannot load bento's native addon; tried:\n- ${tried.join("\n- ")}\n${fixHint()}`);
}

/** The path of the bento-shim helper executable next to the addon. */
export function helperPath(): string {
  for (const dir of addonDir === undefined ? buildDirs : [addonDir]) {
    const file = join(dir, "bento-shim");
    if (existsSync(file)) return file;
  }
  throw new HostUnsupportedError(`cannot find bento-shim; tried:\n- ${buildDirs.map((d) => join(d, "bento-shim")).join("\n- ")}\n${fixHint()}`);
}
