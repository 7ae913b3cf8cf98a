/**
 * The store's image list and tags: `index.json` (every manifest the store holds) and `refs/`
 * (one file per tag). Read without a lock; changed only under the store lock, with
 * write-to-temp-then-rename, by {@link transact}.
 */
import { promises as fs, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { isDigest, type Digest } from "./digest.js";
import { InvalidReferenceError } from "./errors.js";
import { lstatIfExists, writeFileAtomic } from "./fs-util.js";
import { withLock } from "./lock.js";
import { isErrno } from "./native-fs.js";
import { parseTagReference, type Reference } from "./reference.js";
import { emptyIndex, type StoreContext } from "./store-context.js";
import { IMAGE_NAME_ANNOTATION, REF_NAME_ANNOTATION, type Descriptor, type ImageIndex } from "./types.js";

/** Internal state read under the lock. */
export interface StoreState {
  /** Every image manifest the store holds (index.json), by digest. */
  manifests: Map<Digest, Descriptor>;
  /** Tags (full references) and the manifest each points at. */
  refs: Map<string, Digest>;
}

/** The tags (full references) pointing at the manifest `digest`, sorted. */
export function tagsFor(state: StoreState, digest: Digest): string[] {
  return [...state.refs]
    .filter(([, d]) => d === digest)
    .map(([ref]) => ref)
    .sort();
}

/** `digests`, those with the most tags first. */
export function preferTagged(state: StoreState, digests: Digest[]): Digest[] {
  return [...digests].sort((a, b) => tagsFor(state, b).length - tagsFor(state, a).length);
}

/** The manifests index.json lists, by digest, without annotations. */
export async function readManifests(ctx: StoreContext): Promise<Map<Digest, Descriptor>> {
  const raw = readSmallFile(join(ctx.root, "index.json"));
  const manifests = new Map<Digest, Descriptor>();
  if (raw === undefined) return manifests;
  const index = JSON.parse(raw.toString("utf8")) as ImageIndex;
  for (const d of index.manifests ?? []) {
    if (isDigest(d.digest) && !manifests.has(d.digest)) manifests.set(d.digest, { mediaType: d.mediaType, digest: d.digest, size: d.size });
  }
  return manifests;
}

// index.json and the ref files are a few hundred bytes each and every container start from a
// tag reads them: read synchronously, as one system call each, they cost microseconds; through
// fs.promises each took four thread-pool round trips (open, fstat, read, close), which a loaded
// machine made the largest part of resolving a tag.
function readSmallFile(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch (e) {
    if (isErrno(e, "ENOENT")) return undefined;
    throw e;
  }
}

function readRefs(ctx: StoreContext): Map<string, Digest> {
  const refs = new Map<string, Digest>();
  const base = join(ctx.root, "refs");
  const walk = (dir: string): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      if (isErrno(e, "ENOENT")) return;
      throw e;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) {
        const parts = relative(base, path).split(sep);
        if (parts.length < 3) continue;
        const [domain, ...rest] = parts;
        const tag = rest.pop() as string;
        const content = readSmallFile(path)?.toString("utf8").trim();
        if (isDigest(content)) refs.set(`${domain}/${rest.join("/")}:${tag}`, content);
      }
    }
  };
  walk(base);
  return refs;
}

/** The current image list and tags. */
export async function readState(ctx: StoreContext): Promise<StoreState> {
  const manifests = await readManifests(ctx);
  const refs = readRefs(ctx);
  return { manifests, refs };
}

/**
 * Runs `fn` on the current state under the store lock, then writes what it changed: index.json
 * first (so a tag never points at an image the index lacks for long), then the ref files.
 * Refs to manifests the index does not hold are dropped.
 */
export async function transact<T>(ctx: StoreContext, fn: (state: StoreState) => Promise<T>): Promise<T> {
  await ctx.init();
  return withLock(
    join(ctx.root, "lock"),
    async () => {
      const state = await readState(ctx);
      const before = { manifests: new Map(state.manifests), refs: new Map(state.refs) };
      const result = await fn(state);
      for (const [ref, digest] of state.refs) if (!state.manifests.has(digest)) state.refs.delete(ref);
      const changed =
        before.manifests.size !== state.manifests.size || [...state.manifests.keys()].some((d) => !before.manifests.has(d)) || before.refs.size !== state.refs.size || [...state.refs].some(([ref, d]) => before.refs.get(ref) !== d);
      const added = [...state.refs].filter(([ref, digest]) => before.refs.get(ref) !== digest);
      for (const [ref] of added) if (!before.refs.has(ref)) await checkRefPath(ctx, ref);
      if (changed) await writeIndex(ctx, state);
      for (const [ref, digest] of added) await writeRef(ctx, ref, digest);
      for (const ref of before.refs.keys()) if (!state.refs.has(ref)) await deleteRef(ctx, ref);
      return result;
    },
    { timeoutMs: ctx.options.lockTimeoutMs },
  );
}

async function writeIndex(ctx: StoreContext, state: StoreState): Promise<void> {
  const tagsOf = new Map<Digest, string[]>();
  for (const [ref, digest] of [...state.refs].sort(([a], [b]) => (a < b ? -1 : 1))) {
    tagsOf.set(digest, [...(tagsOf.get(digest) ?? []), ref]);
  }
  const manifests: Descriptor[] = [];
  for (const d of state.manifests.values()) {
    const tags = tagsOf.get(d.digest) ?? [];
    if (tags.length === 0) manifests.push({ mediaType: d.mediaType, digest: d.digest, size: d.size });
    for (const tag of tags) {
      manifests.push({ mediaType: d.mediaType, digest: d.digest, size: d.size, annotations: { [IMAGE_NAME_ANNOTATION]: tag, [REF_NAME_ANNOTATION]: tag } });
    }
  }
  const index: ImageIndex = { ...emptyIndex(), manifests };
  await writeFileAtomic(join(ctx.root, "index.json"), `${JSON.stringify(index)}\n`, ctx.tmpDir);
}

function refPath(ctx: StoreContext, ref: Reference & { tag: string }): string {
  return join(ctx.root, "refs", ref.domain, ...ref.path.split("/"), ref.tag);
}

/**
 * refs/ holds `<name>/<tag>` files, so the repository `app` with tag `x` and the repository
 * `app/x` want the same path as a file and as a directory. Refuse such a tag before anything
 * is written.
 */
async function checkRefPath(ctx: StoreContext, ref: string): Promise<void> {
  const base = join(ctx.root, "refs");
  const path = refPath(ctx, parseTagReference(ref));
  const collision = (await lstatIfExists(path))?.isDirectory() ? path : undefined;
  let ancestor: string | undefined;
  for (let dir = dirname(path); dir.startsWith(`${base}${sep}`) && ancestor === undefined; dir = dirname(dir)) {
    if ((await lstatIfExists(dir))?.isFile()) ancestor = dir;
  }
  const other = collision ?? ancestor;
  if (other !== undefined) {
    throw new InvalidReferenceError(ref, `its tag file refs/${relative(base, path)} collides with refs/${relative(base, other)} (a repository and a tag of the same name); choose another tag or name`);
  }
}

async function writeRef(ctx: StoreContext, ref: string, digest: Digest): Promise<void> {
  const path = refPath(ctx, parseTagReference(ref));
  await fs.mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, `${digest}\n`, ctx.tmpDir);
}

async function deleteRef(ctx: StoreContext, ref: string): Promise<void> {
  const path = refPath(ctx, parseTagReference(ref));
  await fs.rm(path, { force: true });
  // Drop emptied repository directories, up to refs/.
  const stop = join(ctx.root, "refs");
  for (let dir = dirname(path); dir.startsWith(`${stop}${sep}`); dir = dirname(dir)) {
    try {
      await fs.rmdir(dir);
    } catch {
      break;
    }
  }
}
