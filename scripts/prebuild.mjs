#!/usr/bin/env node
/**
 * Builds the prebuilt binaries the package ships, so `npm install bento` needs no compiler:
 * prebuilds/linux-<arch>/bento.node and bento-shim for x64 and arm64. Each architecture is built
 * with node-gyp in a scratch copy of the sources (the checkout's build/ is left alone); arm64 is
 * cross-compiled with Debian's g++-aarch64-linux-gnu, and its shim is run once under
 * qemu-aarch64-static when that is installed (a wrong parent pid makes it exit with 3 right after
 * starting: proof that it loads and runs). A static shim that links libseccomp needs that
 * architecture's libseccomp.a: `dpkg --add-architecture arm64 && apt-get update && apt-get install
 * libseccomp-dev:arm64`.
 *
 *   node scripts/prebuild.mjs            # x64 and arm64
 *   node scripts/prebuild.mjs x64        # one architecture
 *   node scripts/prebuild.mjs --missing  # only those not built yet (npm pack's prepack)
 */
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..");
const nodeGyp = join(repo, "node_modules/node-gyp/bin/node-gyp.js");
const say = (text) => process.stderr.write(`prebuild: ${text}\n`);

/** How to compile for each architecture from an x64 or arm64 host. */
const targets = {
  x64: { triplet: "x86_64-linux-gnu", qemu: "qemu-x86_64-static" },
  arm64: { triplet: "aarch64-linux-gnu", qemu: "qemu-aarch64-static" },
};

function which(program) {
  return spawnSync("sh", ["-c", `command -v ${program}`], { encoding: "utf8" }).stdout.trim() || undefined;
}

function build(arch) {
  const target = targets[arch];
  if (target === undefined) throw new Error(`unknown architecture "${arch}"; use ${Object.keys(targets).join(" or ")}`);
  const native = process.arch === arch;
  const env = { ...process.env };
  if (!native) {
    const cxx = `${target.triplet}-g++`;
    if (which(cxx) === undefined) throw new Error(`cross-compiling for ${arch} needs ${cxx}: apt-get install -y g++-${target.triplet.replace(/_/g, "-")}`);
    Object.assign(env, { CC: `${target.triplet}-gcc`, CXX: cxx, LINK: cxx, AR: `${target.triplet}-ar` });
  }
  const scratch = mkdtempSync(join(tmpdir(), `bento-prebuild-${arch}-`));
  try {
    for (const entry of ["addon", "binding.gyp", "package.json"]) cpSync(join(repo, entry), join(scratch, entry), { recursive: true });
    symlinkSync(join(repo, "node_modules"), join(scratch, "node_modules"));
    say(`building ${arch}${native ? "" : ` with ${env.CXX}`}`);
    execFileSync(process.execPath, [nodeGyp, "rebuild", `--arch=${arch}`, "--jobs", "max", ...nodedirArgs()], { cwd: scratch, env, stdio: "inherit" });
    const out = join(repo, "prebuilds", `linux-${arch}`);
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    for (const file of ["bento.node", "bento-shim"]) cpSync(join(scratch, "build/Release", file), join(out, file));
    smokeRun(arch, join(out, "bento-shim"), native ? undefined : which(target.qemu));
    say(`wrote ${out}`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** npm's `nodedir` setting (Node's headers, e.g. Debian's /usr), which node-gyp run by npm would get. */
function nodedirArgs() {
  const fromNpm = process.env.npm_config_nodedir ?? spawnSync("npm", ["config", "get", "nodedir"], { encoding: "utf8" }).stdout?.trim();
  return fromNpm && fromNpm !== "undefined" && fromNpm !== "null" ? [`--nodedir=${fromNpm}`] : [];
}

/** Runs the shim with a parent pid that is not its parent: it must start and exit with 3. */
function smokeRun(arch, shim, qemu) {
  if (process.arch !== arch && qemu === undefined) return say(`no ${targets[arch].qemu}: the ${arch} shim was not run (apt-get install -y qemu-user-static to run it)`);
  const [program, args] = qemu === undefined ? [shim, ["smoke", "1"]] : [qemu, [shim, "smoke", "1"]];
  const { status, error } = spawnSync(program, args);
  if (status !== 3) throw new Error(`the ${arch} shim did not run as expected (${error?.message ?? `exit status ${status}, expected 3`})`);
  say(`the ${arch} shim runs${qemu === undefined ? "" : " (under qemu)"}`);
}

const args = process.argv.slice(2);
const onlyMissing = args.includes("--missing");
const wanted = args.filter((a) => a !== "--missing");
for (const arch of wanted.length > 0 ? wanted : Object.keys(targets)) {
  const dir = join(repo, "prebuilds", `linux-${arch}`);
  if (onlyMissing && existsSync(join(dir, "bento.node")) && existsSync(join(dir, "bento-shim"))) say(`${dir} is there`);
  else build(arch);
}
