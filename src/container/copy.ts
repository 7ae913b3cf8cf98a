/**
 * Copying files into and out of a container, as `docker cp`: modes and ownership are kept.
 * A running container is reached through its own mount namespace with `tar` (run by exec, so the
 * image needs a `tar`, as `kubectl cp` does); a stopped one through its upper directory and the
 * image's layers, which are not mounted then.
 */
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { tarPackage } from "../deps.js";
import { BentoError } from "../errors.js";
import type { RawExecResult } from "./exec.js";
import { copyMergedTree, lookupMerged, resolveMerged } from "./merged-view.js";
import { containerPath } from "./mounts.js";
import type { RuntimeMount } from "../runtime/container-plan.js";
import { containerOwnerOf, OwnerChanges, putAsNamespaceRoot, stageAsNamespaceRoot } from "../runtime/rootless-owner.js";
import { isRootless, removeAsNamespaceRoot } from "../runtime/user-namespace.js";

/** What copying needs from a container. */
export interface CopyTarget {
  name: string;
  running: boolean;
  execRaw(argv: string[], options: { stdin?: Buffer }): Promise<RawExecResult>;
  /** Upper dir, then image layers (top-first). */
  layers(): string[];
  mounts: readonly RuntimeMount[];
}

async function tarOf(dir: string, entry: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  // Rootless, the staged files are the user's, which is root in the container: the tar carries
  // no owners, so tar in the container makes them root's.
  const stream = tarPackage().c({ cwd: dir, portable: isRootless() }, [entry]);
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function check(r: RawExecResult, what: string, target: CopyTarget): void {
  if (r.exitCode !== 0) {
    throw new BentoError("ERR_COPY", `${what} in ${target.name}: tar exited with ${r.exitCode}: ${r.stderr.toString().trim() || "no message"} (copying into or out of a running container needs a tar in its image)`);
  }
}

/** The mount whose target holds `path`, and the path inside its source. */
function mountFor(mounts: readonly RuntimeMount[], path: string): { mount: RuntimeMount; rest: string } | undefined {
  let best: { mount: RuntimeMount; rest: string } | undefined;
  for (const m of mounts) {
    if (path === m.target || path.startsWith(`${m.target}/`)) {
      if (!best || m.target.length > best.mount.target.length) best = { mount: m, rest: path.slice(m.target.length).replace(/^\/+/, "") };
    }
  }
  return best;
}

/** Where a copied tree lands on the host: into `hostPath` when it is a directory, else as it. */
function hostDestination(hostPath: string, name: string): string {
  return existsSync(hostPath) && lstatSync(hostPath).isDirectory() ? join(hostPath, name) : hostPath;
}

/** Copies `path` out of the container to `hostPath`; rootless, the copies are the user's. */
export async function copyFromContainer(target: CopyTarget, path: string, hostPath: string): Promise<void> {
  const src = containerPath("copyFrom", path);
  const dest = hostDestination(hostPath, basename(src) || "root");
  mkdirSync(dirname(dest), { recursive: true });
  const staging = mkdtempSync(join(dirname(dest), ".bento-cp-"));
  try {
    if (target.running) {
      const r = await target.execRaw(["tar", "-c", "-C", dirname(src), basename(src)], {});
      check(r, `copy ${src} out`, target);
      await new Promise<void>((resolve, reject) => {
        const x = tarPackage().x({ cwd: staging, preserveOwner: !isRootless() });
        x.on("error", reject);
        x.on("close", () => resolve());
        x.end(r.stdout);
      });
    } else {
      // Resolved inside the container (its symlinks, as it would follow them), then inside the
      // volume or bind it lands in: never through a symlink on the host.
      const resolved = `/${resolveMerged(target.layers(), src, false)}`;
      const inMount = mountFor(target.mounts, resolved);
      const bind = inMount && inMount.mount.kind === "bind" ? { source: inMount.mount.source, rest: inMount.rest } : undefined;
      const to = join(staging, basename(src));
      let found: boolean;
      if (isRootless()) {
        // Files that container users made belong to subordinate ids the user may not read: root
        // of the user namespace copies them (resolving the rest of the path in the same view,
        // inside dirs the user cannot search) and hands the copy to the user.
        const [dirs, rest] = !bind ? [target.layers(), resolved] : bind.rest === "" ? [[dirname(bind.source)], basename(bind.source)] : [[bind.source], bind.rest];
        found = await stageAsNamespaceRoot(dirs, rest, to, false);
      } else {
        const owners = new OwnerChanges(staging);
        found = bind ? copyMergedTree([bind.source], resolveMerged([bind.source], bind.rest, false), to, owners) : copyMergedTree(target.layers(), resolved, to, owners);
      }
      if (!found) throw new BentoError("ERR_NOT_FOUND", `copyFrom: ${src} does not exist in container ${target.name}`);
    }
    const copied = join(staging, basename(src));
    if (!existsSync(copied)) throw new BentoError("ERR_NOT_FOUND", `copyFrom: ${src} does not exist in container ${target.name}`);
    rmSync(dest, { recursive: true, force: true });
    renameSync(copied, dest);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Copies a host path (or a Buffer, as a file) into the container at `path`. */
export async function copyToContainer(target: CopyTarget, source: string | Buffer, path: string): Promise<void> {
  const dest = containerPath("copyTo", path);
  if (typeof source === "string" && !existsSync(source)) throw new BentoError("ERR_NOT_FOUND", `copyTo: "${source}" does not exist on the host`);
  const staging = mkdtempSync(join(dirname(typeof source === "string" ? source : "/tmp/x"), ".bento-cp-"));
  try {
    // Stage the tree under the name it gets in the container, keeping modes and owners.
    let name = basename(dest);
    if (target.running) {
      const isDir = (await target.execRaw(["test", "-d", dest], {})).exitCode === 0;
      if (isDir && typeof source === "string") name = basename(source);
      const parent = isDir && typeof source === "string" ? dest : dirname(dest);
      stage(source, join(staging, name), undefined);
      const r = await target.execRaw(["tar", "-x", "-C", parent], { stdin: await tarOf(staging, name) });
      check(r, `copy into ${dest}`, target);
      return;
    }
    // Stopped: write into the upper directory, which overlay will show on the next start.
    if (isRootless()) return await putRootless(target, source, dest, staging);
    const upper = target.layers()[0]!;
    // The parents resolved inside the container, so no symlink it made leads the write to the host.
    const resolved = resolveMerged(target.layers(), dest, false);
    const existing = lookupMerged(target.layers(), resolved);
    const intoDir = existing?.stat.isDirectory() && typeof source === "string";
    const finalPath = `/${intoDir ? join(resolved, basename(source)) : resolved}`;
    const owners = new OwnerChanges(upper);
    copyUpParents(target.layers(), dirname(finalPath), owners);
    const at = join(upper, finalPath);
    rmSync(at, { recursive: true, force: true }); // also a whiteout that hid a deleted file
    stage(source, at, owners);
    await owners.apply();
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

// Rootless, the container's directories may belong to other container users (subordinate ids,
// mode 0700): root of the user namespace writes the staged tree through an overlay of the
// container's layers, where its paths resolve as the container's own, and copies parents up.
async function putRootless(target: CopyTarget, source: string | Buffer, dest: string, staging: string): Promise<void> {
  const [upper, ...lowers] = target.layers();
  const staged = join(staging, typeof source === "string" ? basename(source) : basename(dest));
  const owners = new OwnerChanges(staging);
  stage(source, staged, owners);
  await owners.apply();
  try {
    await putAsNamespaceRoot(staged, dest, typeof source === "string", upper!, join(dirname(upper!), "work"), lowers);
  } finally {
    // Staged files may belong to container users now: the namespace's root removes them.
    await removeAsNamespaceRoot([staging]);
  }
}

// Copies the host tree; its owners go through `owners` when given (as root the staged tree for
// a running container keeps them too: its tar carries them).
function stage(source: string | Buffer, to: string, owners: OwnerChanges | undefined): void {
  if (typeof source === "string") cpSync(source, to, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true, mode: 0 });
  else writeFileSync(to, source, { mode: 0o644 });
  if (typeof source === "string" && (owners || !isRootless())) copyOwnership(source, to, owners ?? new OwnerChanges(dirname(to)));
}

// cpSync keeps modes and times but not owners.
function copyOwnership(from: string, to: string, owners: OwnerChanges): void {
  const st = lstatSync(from);
  owners.set(to, containerOwnerOf(st), `copy ${from}`);
  if (st.isDirectory()) for (const n of readdirSync(from)) copyOwnership(join(from, n), join(to, n), owners);
}

/** Creates `dir`'s ancestors in the upper dir with the owners and modes the image gives them. */
function copyUpParents(layers: string[], dir: string, owners: OwnerChanges): void {
  const upper = layers[0]!;
  let rel = "";
  for (const part of dir.split("/").filter(Boolean)) {
    rel = rel ? `${rel}/${part}` : part;
    const at = join(upper, rel);
    if (existsSync(at) && lstatSync(at).isDirectory()) continue;
    const below = lookupMerged(layers.slice(1), rel);
    rmSync(at, { force: true });
    mkdirSync(at, { mode: below?.stat.mode ?? 0o755 });
    if (below) owners.set(at, containerOwnerOf(below.stat), `copy to ${rel}`);
  }
}
