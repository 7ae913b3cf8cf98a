#!/usr/bin/env node
/**
 * npm's install hook: uses the prebuilt addon and bento-shim for this machine
 * (prebuilds/linux-<arch>/, glibc) when they are there and the addon loads, so no compiler is
 * needed; otherwise builds both from source with node-gyp (g++, make and python3), as before.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);
const say = (text) => process.stderr.write(`bento install: ${text}\n`);

function prebuiltLoads() {
  const dir = join(root, "prebuilds", `${process.platform}-${process.arch}`);
  if (!existsSync(join(dir, "bento.node")) || !existsSync(join(dir, "bento-shim"))) return false;
  // The prebuilt binaries are linked against glibc; musl hosts build from source.
  if (!process.report?.getReport().header.glibcVersionRuntime) return (say("this host's C library is not glibc: building from source"), false);
  try {
    require(join(dir, "bento.node"));
    return true;
  } catch (error) {
    say(`the prebuilt addon does not load here (${error.message}): building from source`);
    return false;
  }
}

if (prebuiltLoads()) {
  say(`using the prebuilt binaries for ${process.platform}-${process.arch}`);
} else {
  // One compiler per CPU: the addon and bento-shim are some forty files (43 s on two CPUs one at a time, 19 s two at a time).
  execFileSync(process.execPath, [require.resolve("node-gyp/bin/node-gyp.js"), "rebuild", "--jobs", "max"], { cwd: root, stdio: "inherit" });
}
