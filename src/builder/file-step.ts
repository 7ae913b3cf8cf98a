/**
 * COPY and ADD, in two phases. `prepareFileStep` finds every source (context paths with their
 * wildcards and `.dockerignore`, `--from` paths in a stage or image, heredocs, downloads) and
 * computes the step's cache inputs from their content; `writeFileStep` runs only on a cache miss
 * and lays the files out in a layer tree with Docker's destination rules:
 *
 * - a directory source copies its contents, not itself;
 * - a file goes to `<dest>/<name>` when `dest` ends with `/` or is a directory in the image, else
 *   to `dest`; several sources (or a wildcard matching several) need a `dest` ending with `/`;
 * - a relative `dest` is relative to WORKDIR; symlinks on the way are followed inside the image;
 * - context files are owned by root, `--from` files keep their owner, `--chown` overrides both
 *   (a user without a group uses the uid as gid, as Docker's reference says); `--chmod` sets the
 *   mode of every copied file and directory;
 * - ADD extracts local tar archives (plain, gzip, bzip2, xz, zstd) into `dest`, and downloads URLs
 *   without extracting them (mode 0600, as Docker).
 */
import { readFileSync, rmSync, type Stats } from "node:fs";
import path from "node:path";
import { parseGroup, parsePasswd } from "../runtime/user.js";
import { tempName } from "../store/fs-util.js";
import { createIgnoreMatcher, type IgnoreMatcher } from "../image/dockerignore.js";
import type { ImageConfig } from "../image/config.js";
import type { AddStep, CopyStep, Heredoc } from "../image/plan.js";
import { heredocBody } from "../image/step-expansion.js";
import { archiveCompression, extractArchive, type ArchiveCompression } from "./archive.js";
import { shortDigest } from "./cache.js";
import { type BuildContext, ContextRefusal, hasWildcards, segmentRegExp, type ContextEntry } from "./context.js";
import { download, isRemoteSource } from "./download.js";
import type { LayeredView, ViewEntry } from "./layered-view.js";
import { containerOwnerOf } from "../runtime/rootless-owner.js";
import { DestinationError, LayerTree, type Owner } from "./layer-builder.js";

/** Per-file inputs are listed (to say which files changed) up to this many files per step. */
const MAX_LISTED_FILES = 500;

type Source =
  | { kind: "context"; matched: string; entry: ContextEntry; children: ContextEntry[] }
  | { kind: "archive"; matched: string; entry: ContextEntry; compression: ArchiveCompression }
  | { kind: "view"; matched: string; rel: string; entry: ViewEntry }
  | { kind: "heredoc"; doc: Heredoc }
  | { kind: "url"; url: string; file: string; fileName: string; mtimeMs: number | undefined };

/** A COPY or ADD step whose sources were found. */
export interface PreparedFileStep {
  step: CopyStep | AddStep;
  sources: Source[];
  /** The step's cache inputs (see cache.ts). */
  inputs: Record<string, string>;
  /** Removes downloads. */
  cleanup(): void;
}

/** Where a step's files come from. */
export interface FileStepOrigin {
  /** The build context (opened on first use). */
  context(): BuildContext;
  /**
   * For `COPY --from`: the source image's view and identity; rootless, `owners` holds the owners
   * and modes its files had (the view is a copy made the user's: see readable-source.ts).
   */
  from?: { view: LayeredView; id: string; name: string; owners?: ReadonlyMap<string, { uid: number; gid: number; mode: number }> };
  /** Where downloads go (the store's temp directory). */
  tmpDir: string;
}

function excludeMatcher(patterns: readonly string[] | undefined): IgnoreMatcher | undefined {
  return patterns === undefined || patterns.length === 0 ? undefined : createIgnoreMatcher(patterns.join("\n"), "--exclude");
}

function heredocSourceName(source: string, heredocs: readonly Heredoc[]): Heredoc | undefined {
  const match = /^\d*<<-?(["']?)([^"']+)\1$/.exec(source);
  return match === null ? undefined : heredocs.find((h) => h.name === match[2]);
}

/**
 * Finds the sources of an (expanded) COPY or ADD step and computes its cache inputs. Throws
 * {@link ContextRefusal} for a source that leaves the context, is ignored or is missing.
 *
 * @example
 * ```ts
 * const prepared = await prepareFileStep(expandFileStep(step, vars), { context: () => ctx, tmpDir: store.tmpDir });
 * ```
 */
export async function prepareFileStep(step: CopyStep | AddStep, origin: FileStepOrigin): Promise<PreparedFileStep> {
  const sources: Source[] = [];
  const inputs: Record<string, string> = { dest: step.dest };
  if (step.chown !== undefined) inputs.chown = step.chown;
  if (step.chmod !== undefined) inputs.chmod = step.chmod;
  const downloads: string[] = [];
  const cleanup = (): void => {
    for (const file of downloads) rmSync(file, { force: true });
  };
  const exclude = excludeMatcher(step.exclude);
  if (step.kind === "copy" && step.parents) throw new ContextRefusal(step.sources.join(" "), "COPY --parents is not supported by bento's build engine yet");
  const fileLines: Array<[string, string]> = [];
  try {
    for (const source of step.sources) {
      const doc = heredocSourceName(source, step.heredocs ?? []);
      if (doc !== undefined) {
        sources.push({ kind: "heredoc", doc });
        inputs[`heredoc:${doc.name}`] = shortDigest(heredocBody(doc));
        continue;
      }
      if (step.kind === "add" && isRemoteSource(source)) {
        const file = path.join(origin.tmpDir, tempName("add-"));
        downloads.push(file);
        let fetched;
        try {
          fetched = await download(source, file, step.checksum);
        } catch (e) {
          throw new ContextRefusal(source, (e as Error).message);
        }
        sources.push({ kind: "url", url: source, file, fileName: fetched.fileName, mtimeMs: fetched.mtimeMs });
        inputs[`url:${source}`] = fetched.digest.slice(0, 20);
        continue;
      }
      if (step.kind === "add" && /^(git@|git:\/\/|ssh:\/\/)|\.git(#.*)?$/.test(source)) {
        throw new ContextRefusal(source, "ADD of a git repository is not supported by bento's build engine yet; clone it into the context and COPY it");
      }
      if (origin.from !== undefined) {
        for (const found of viewSources(origin.from.view, source, origin.from.name)) sources.push(found);
        inputs[`src:${source}`] = origin.from.id.slice(0, 20);
        continue;
      }
      const context = origin.context();
      const matches = context.resolveSource(source);
      const summary: string[] = [];
      for (const { matched, entry } of matches) {
        if (entry.stat.isDirectory()) {
          const children = context.walk(entry.rel).filter((child) => exclude === undefined || !exclude(path.posix.relative(entry.rel, child.rel), child.stat.isDirectory()));
          sources.push({ kind: "context", matched, entry, children });
          for (const child of children) {
            const rel = path.posix.relative(entry.rel, child.rel);
            const line = describeEntry(context, child);
            summary.push(`${rel}\0${line}`);
            fileLines.push([`${matched === "" ? "." : matched}/${rel}`, line]);
          }
          summary.push(`.\0${entry.stat.mode & 0o7777}`);
        } else {
          if (exclude?.(matched, false)) continue;
          const line = describeEntry(context, entry);
          summary.push(`${matched}\0${line}`);
          fileLines.push([matched, line]);
          const compression = step.kind === "add" && step.unpack !== false ? await archiveCompression(context.hostPath(entry.rel)) : undefined;
          if (compression !== undefined) sources.push({ kind: "archive", matched, entry, compression });
          else sources.push({ kind: "context", matched, entry, children: [] });
        }
      }
      inputs[`src:${source}`] = shortDigest(summary.join("\n"));
    }
  } catch (e) {
    cleanup();
    throw e;
  }
  if (fileLines.length <= MAX_LISTED_FILES) for (const [name, line] of fileLines) inputs[`file:${name}`] = shortDigest(line);
  return { step, sources, inputs, cleanup };
}

function describeEntry(context: BuildContext, entry: ContextEntry): string {
  const mode = entry.stat.mode & 0o7777;
  if (entry.stat.isSymbolicLink()) return `l\0${mode}\0${context.readlink(entry.rel)}`;
  if (entry.stat.isDirectory()) return `d\0${mode}`;
  return `f\0${mode}\0${context.fileDigest(entry)}`;
}

// `COPY --from` sources: absolute or relative to the source's root, wildcards per name, symlinks
// followed inside the source image.
function viewSources(view: LayeredView, source: string, name: string): Source[] {
  const rel = path.posix.normalize(`/${source}`).slice(1).replace(/\/+$/, "");
  let candidates = [rel];
  if (hasWildcards(rel)) {
    candidates = [""];
    for (const segment of rel.split("/")) {
      const next: string[] = [];
      for (const dir of candidates) {
        if (!hasWildcards(segment)) {
          next.push(dir === "" ? segment.replace(/\\(.)/g, "$1") : `${dir}/${segment.replace(/\\(.)/g, "$1")}`);
          continue;
        }
        const regexp = segmentRegExp(segment);
        for (const entry of view.readdir(view.resolve(dir, true))) if (regexp.test(entry)) next.push(dir === "" ? entry : `${dir}/${entry}`);
      }
      candidates = next;
    }
    if (candidates.length === 0) throw new ContextRefusal(source, `no file in ${name} matches this pattern`);
  }
  return candidates.map((matched) => {
    const real = view.resolve(matched, true);
    const entry = view.lookup(real);
    if (entry === undefined) throw new ContextRefusal(source, `not found in ${name}`);
    return { kind: "view", matched, rel: real, entry };
  });
}

/**
 * The owner a `--chown` value names in the image whose view is given: `user[:group]`, names
 * looked up in its /etc/passwd and /etc/group, numbers taken as they are.
 *
 * @example
 * ```ts
 * resolveChown("app:app", view); // { uid: 1000, gid: 1000 }
 * ```
 */
export function resolveChown(spec: string, view: LayeredView): Owner {
  const [user = "", group] = spec.split(":", 2);
  const read = (file: string): string => {
    const entry = view.lookup(view.resolve(file, true));
    if (entry === undefined || !entry.stat.isFile()) return "";
    return readFileSync(entry.hostPath, "utf8");
  };
  let uid: number;
  if (/^\d+$/.test(user)) uid = Number(user);
  else {
    const found = parsePasswd(read("etc/passwd")).find((p) => p.name === user);
    if (found === undefined) throw new DestinationError(`--chown=${spec}: no user "${user}" in the image's /etc/passwd; use a name it defines or a numeric uid`);
    uid = found.uid;
  }
  let gid = uid;
  if (group !== undefined && group !== "") {
    if (/^\d+$/.test(group)) gid = Number(group);
    else {
      const found = parseGroup(read("etc/group")).find((g) => g.name === group);
      if (found === undefined) throw new DestinationError(`--chown=${spec}: no group "${group}" in the image's /etc/group; use a name it defines or a numeric gid`);
      gid = found.gid;
    }
  }
  return { uid, gid };
}

/**
 * The mode a `--chmod` value gives (octal digits).
 *
 * @example
 * ```ts
 * parseChmod("755"); // 0o755
 * ```
 */
export function parseChmod(text: string): number {
  if (!/^[0-7]{1,4}$/.test(text)) throw new DestinationError(`--chmod=${text}: expected an octal mode such as 755 or 0644`);
  return Number.parseInt(text, 8);
}

/**
 * Writes a prepared step's files into the empty directory `root`, as a layer over the image whose
 * view is given.
 *
 * @example
 * ```ts
 * await writeFileStep(prepared, tmpDir, new LayeredView(lowerDirs), stageConfig, origin);
 * ```
 */
export async function writeFileStep(prepared: PreparedFileStep, root: string, view: LayeredView, config: ImageConfig, origin: FileStepOrigin): Promise<void> {
  const { step, sources } = prepared;
  const chown = step.chown === undefined || step.chown === "" ? undefined : resolveChown(step.chown, view);
  // New parent directories belong to the --chown owner too ("all new files and directories").
  const layer = new LayerTree(root, view, chown ?? { uid: 0, gid: 0 });
  const chmod = step.chmod === undefined || step.chmod === "" ? undefined : parseChmod(step.chmod);
  const destText = step.dest;
  const destAbs = path.posix.resolve("/", config.WorkingDir || "/", destText);
  const destSaysDir = destText.endsWith("/") || destText === "." || destText.endsWith("/.");
  const count = sources.length;
  if (count > 1 && !destSaysDir) {
    throw new DestinationError(`several sources are copied to ${JSON.stringify(destText)}: the destination must be a directory and end with "/"`);
  }
  const destRel = view.resolve(destAbs.slice(1), true);
  const destEntry = view.lookup(destRel);
  const intoDir = destSaysDir || destEntry?.stat.isDirectory() === true;
  const fileTarget = (name: string): string => {
    if (!intoDir) return destRel;
    if (name === "") throw new DestinationError(`cannot tell the file name to create in ${JSON.stringify(destText)}; give a file path as the destination`);
    return join(destRel, name);
  };
  const ownerOr = (fallback: Owner): Owner => chown ?? fallback;
  const rootOwner: Owner = { uid: 0, gid: 0 };

  for (const source of sources) {
    switch (source.kind) {
      case "heredoc":
        layer.writeContent(placeFile(layer, fileTarget(source.doc.name)), heredocBody(source.doc), chmod ?? 0o644, ownerOr(rootOwner));
        break;
      case "url":
        layer.copyFile(source.file, placeFile(layer, fileTarget(source.fileName)), chmod ?? 0o600, ownerOr(rootOwner), source.mtimeMs ?? Date.now());
        break;
      case "archive": {
        layer.ensureDir(destRel);
        // Rootless, the archive's owners are set once the layer is written (root extracts with them).
        const archived = (file: string, uid: number, gid: number, name: string) => layer.setOwner(file, { uid, gid }, `ADD ${source.matched}: entry "${name}"`);
        await extractArchive(origin.context().hostPath(source.entry.rel), source.compression, layer.root, { under: destRel.split("/").filter(Boolean), lowerParent: (rel) => layer.lowerParent(rel) }, archived);
        break;
      }
      case "context": {
        const ctx = origin.context();
        const { entry } = source;
        if (!entry.stat.isDirectory()) {
          layer.copyFile(ctx.hostPath(entry.rel), placeFile(layer, fileTarget(path.posix.basename(source.matched))), chmod ?? entry.stat.mode, ownerOr(rootOwner), entry.stat.mtimeMs);
          break;
        }
        layer.ensureDir(destRel);
        for (const child of source.children) {
          const target = join(destRel, path.posix.relative(entry.rel, child.rel));
          const owner = ownerOr(rootOwner);
          if (child.stat.isDirectory()) layer.writeDir(placeDir(layer, target), chmod ?? child.stat.mode, owner, child.stat.mtimeMs);
          else if (child.stat.isSymbolicLink()) layer.symlink(ctx.readlink(child.rel), placeFile(layer, target), owner, child.stat.mtimeMs);
          else layer.copyFile(ctx.hostPath(child.rel), placeFile(layer, target), chmod ?? child.stat.mode, owner, child.stat.mtimeMs);
        }
        break;
      }
      case "view": {
        const from = source.entry;
        const sourceView = origin.from?.view;
        if (sourceView === undefined) throw new Error("COPY --from source without its image view");
        // The owner and mode a file had in the source image (rootless: recorded before its copy was made the user's).
        const recorded = origin.from?.owners;
        const ownerOf = (rel: string, stat: Stats) => ownerOr(recorded?.get(rel) ?? containerOwnerOf(stat));
        const modeOf = (rel: string, stat: Stats) => chmod ?? recorded?.get(rel)?.mode ?? stat.mode;
        if (!from.stat.isDirectory()) {
          const target = placeFile(layer, fileTarget(path.posix.basename(source.matched)));
          if (from.stat.isSymbolicLink()) layer.symlink(sourceView.readlink(source.rel), target, ownerOf(source.rel, from.stat), from.stat.mtimeMs);
          else layer.copyFile(from.hostPath, target, modeOf(source.rel, from.stat), ownerOf(source.rel, from.stat), from.stat.mtimeMs);
          break;
        }
        layer.ensureDir(destRel);
        const walk = (rel: string, target: string): void => {
          for (const name of sourceView.readdir(rel)) {
            const childRel = rel === "" ? name : `${rel}/${name}`;
            const child = sourceView.lookup(childRel);
            if (child === undefined) continue;
            const childTarget = join(target, name);
            const owner = ownerOf(childRel, child.stat);
            if (child.stat.isDirectory()) {
              layer.writeDir(placeDir(layer, childTarget), modeOf(childRel, child.stat), owner, child.stat.mtimeMs);
              walk(childRel, childTarget);
            } else if (child.stat.isSymbolicLink()) {
              layer.symlink(sourceView.readlink(childRel), placeFile(layer, childTarget), owner, child.stat.mtimeMs);
            } else if (child.stat.isFile()) {
              layer.copyFile(child.hostPath, placeFile(layer, childTarget), modeOf(childRel, child.stat), owner, child.stat.mtimeMs);
            }
          }
        };
        walk(source.rel, destRel);
        break;
      }
    }
  }
  await layer.finish();
}

function join(dir: string, name: string): string {
  return dir === "" ? name : `${dir}/${name}`;
}

// Where a file lands: its directory resolved through the image's symlinks and those earlier
// sources of the step made (the name itself is replaced, not followed).
function placeFile(layer: LayerTree, rel: string): string {
  return layer.resolve(rel, false);
}

// Where a directory lands: followed through a symlink the image or the step has at its place.
function placeDir(layer: LayerTree, rel: string): string {
  return layer.resolve(rel, true);
}
