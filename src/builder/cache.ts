/**
 * The build cache, with Docker's rules: a step's key is the identity of the state it starts from
 * (the parent), its instruction, and its inputs (the variables in scope, file checksums for COPY
 * and ADD, the source stage of `COPY --from`). A state's identity is the key of the step that made
 * it plus the diff id of its layer, so a step that reruns and gives a different layer changes every
 * later key (a miss invalidates the rest of the stage), while one that gives the same layer does not.
 *
 * Records live in the store's `cache/` directory (`store.putCacheRecord`):
 *
 * ```
 * step-<key>        { created, layer? }      the result of a step
 * children-<state>  { children: [...] }      what was built on a state, to say why a step reran
 * rootfs-<hash>     { created, layer }       a root filesystem directory imported as a layer
 * ```
 *
 * Misses are built under a per-key flock (`<store>/build-locks/<key>`): a second process building
 * the same step waits, then finds the first one's record, so both end with the same image.
 */
import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { buildLocksDir, withLock } from "../store/lock.js";
import type { ImageStore } from "../store/image-store.js";
import type { LayerInfo } from "../store/types.js";
import type { RebuildCause } from "../image/build-progress.js";

/** What a step produced. */
export interface StepRecord {
  /** When the step first ran (ISO 8601); the image's history and `created` come from it. */
  created: string;
  /** The layer it made, if it made one. */
  layer?: LayerInfo;
}

/** One step built on a state, remembered to explain later misses. */
export interface ChildSummary {
  instruction: string;
  /** Input name -> short digest: `var:NAME`, `file:<path>`, `src:<source>`, `from`, `url:<url>`. */
  inputs: Record<string, string>;
  at: string;
}

/**
 * Records of another cache that the local one falls back to (the registry caches a build reads,
 * remote-cache.ts). Their layers may not be in the store yet; they are fetched when needed.
 */
export interface RemoteStepSource {
  /** A step's record, by key. */
  step(key: string): StepRecord | undefined;
  /** An imported root filesystem's record, by tree hash. */
  rootfs(hash: string): StepRecord | undefined;
  /** What was built on a state, to explain misses. */
  children(parentId: string): ChildSummary[];
  /** True when the source can supply the layer blob. */
  hasLayer(digest: string): boolean;
}

interface ChildrenRecord {
  children: ChildSummary[];
}

const MAX_CHILDREN = 16;
const LOCK_TIMEOUT_MS = 6 * 60 * 60 * 1000;

/**
 * sha256 (hex) of the given parts, separated so that no two lists give the same text.
 *
 * @example
 * ```ts
 * hashParts("a", "b") !== hashParts("ab", ""); // true
 * ```
 */
export function hashParts(...parts: string[]): string {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(`${part.length}:${part}\n`);
  return hash.digest("hex");
}

/**
 * A short digest of an input value, for the inputs map (long enough not to collide in practice,
 * short enough to keep records small).
 *
 * @example
 * ```ts
 * shortDigest("value").length; // 20
 * ```
 */
export function shortDigest(value: string): string {
  return createHash("sha256").update(value).digest("hex").slice(0, 20);
}

/**
 * The cache key of a step.
 *
 * @example
 * ```ts
 * stepKey(parent.id, "RUN make", { "var:CC": shortDigest("gcc") });
 * ```
 */
export function stepKey(parentId: string, instruction: string, inputs: Readonly<Record<string, string>>): string {
  const sorted = Object.keys(inputs)
    .sort()
    .map((k) => `${k}=${inputs[k]}`);
  return hashParts("step", parentId, instruction, ...sorted);
}

/**
 * The identity of the state a step leaves: its key and its layer.
 *
 * @example
 * ```ts
 * stateIdAfter(key, record.layer?.diffId);
 * ```
 */
export function stateIdAfter(key: string, diffId: string | undefined): string {
  return hashParts("state", key, diffId ?? "");
}

/** The build cache of one store. */
export class BuildCache {
  constructor(
    readonly store: ImageStore,
    /** Where records the store lacks are looked up (a build's `cacheFrom`). */
    readonly remote?: RemoteStepSource,
  ) {}

  /** The record of a step, if any: the store's, else (or when its layer was pruned) the remote's. */
  async step(key: string): Promise<StepRecord | undefined> {
    return this.#withRemote(await this.store.getCacheRecord<StepRecord>(`step-${key}`), this.remote?.step(key));
  }

  async #withRemote(local: StepRecord | undefined, remote: StepRecord | undefined): Promise<StepRecord | undefined> {
    if (remote === undefined || (local !== undefined && (local.layer === undefined || (await this.store.hasBlob(local.layer.digest))))) return local;
    return remote;
  }

  /** Saves a step's record. */
  async putStep(key: string, record: StepRecord): Promise<void> {
    await this.store.putCacheRecord(`step-${key}`, record);
  }

  /** The record of an imported root filesystem, by the hash of its tree. */
  async rootfs(hash: string): Promise<StepRecord | undefined> {
    return this.#withRemote(await this.store.getCacheRecord<StepRecord>(`rootfs-${hash}`), this.remote?.rootfs(hash));
  }

  /** Saves the record of an imported root filesystem. */
  async putRootfs(hash: string, record: StepRecord): Promise<void> {
    await this.store.putCacheRecord(`rootfs-${hash}`, record);
  }

  /** True when a record's layer blob is still in the store (a prune may have removed it), or the remote supplies it. */
  async usable(record: StepRecord): Promise<boolean> {
    return record.layer === undefined || (await this.store.hasBlob(record.layer.digest)) || this.remote?.hasLayer(record.layer.digest) === true;
  }

  /** Runs `fn` holding the build lock of `key`, so one process at a time builds a step. */
  async withKeyLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const dir = buildLocksDir(this.store.root);
    mkdirSync(dir, { recursive: true });
    return withLock(join(dir, key), fn, { timeoutMs: LOCK_TIMEOUT_MS });
  }

  /** Remembers that `child` was built on the state `parentId` (the most recent few are kept). */
  async noteChild(parentId: string, child: ChildSummary): Promise<void> {
    const name = `children-${parentId}`;
    const record = (await this.store.getCacheRecord<ChildrenRecord>(name)) ?? { children: [] };
    const others = (record.children ?? []).filter((c) => c.instruction !== child.instruction);
    await this.store.putCacheRecord(name, { children: [child, ...others].slice(0, MAX_CHILDREN) });
  }

  /**
   * Why a step missed: compares it with what was built on the same parent before. `parentRebuilt`
   * names the earlier step of this build that ran again, when the parent came from one.
   */
  async explainMiss(parentId: string, instruction: string, inputs: Readonly<Record<string, string>>, parentRebuilt: number | undefined): Promise<{ cause: RebuildCause; reason: string }> {
    const record = await this.store.getCacheRecord<ChildrenRecord>(`children-${parentId}`);
    const local = record?.children ?? [];
    const children = local.length > 0 ? local : (this.remote?.children(parentId) ?? []);
    const same = children.find((c) => c.instruction === instruction);
    if (same !== undefined) return { cause: "inputs-changed", reason: describeChanges(same.inputs, inputs) };
    if (children.length > 0) {
      const before = children[0] as ChildSummary;
      return { cause: "instruction-changed", reason: `the instruction changed (built before on the same parent: ${JSON.stringify(firstLine(before.instruction))})` };
    }
    if (parentRebuilt !== undefined) {
      return { cause: "parent-rebuilt", reason: `step ${parentRebuilt} was not taken from the cache, so no later step of its stage can be` };
    }
    return { cause: "new", reason: "nothing was built on this parent before (first build, or a new base image)" };
  }
}

function firstLine(text: string): string {
  const [line = ""] = text.split("\n");
  return line.length > 80 ? `${line.slice(0, 77)}...` : line;
}

const KIND_WORDS: Record<string, string> = { var: "build args or env", file: "files", src: "sources", url: "downloads", from: "the COPY --from source", chown: "--chown owner" };

/**
 * Words for what differs between two input maps: `files changed: src/a.ts, src/b.ts (+3 more)`.
 *
 * @example
 * ```ts
 * describeChanges({ "file:a": "1" }, { "file:a": "2" }); // "files changed: a"
 * ```
 */
export function describeChanges(before: Readonly<Record<string, string>>, now: Readonly<Record<string, string>>): string {
  const changed = new Map<string, string[]>();
  const note = (key: string, how: string): void => {
    const colon = key.indexOf(":");
    const kind = colon < 0 ? key : key.slice(0, colon);
    const name = colon < 0 ? "" : key.slice(colon + 1);
    const list = changed.get(kind) ?? [];
    list.push(`${name}${how}`);
    changed.set(kind, list);
  };
  for (const key of Object.keys(now).sort()) {
    if (!(key in before)) note(key, " (added)");
    else if (before[key] !== now[key]) note(key, "");
  }
  for (const key of Object.keys(before).sort()) if (!(key in now)) note(key, " (removed)");
  if (changed.size === 0) return "the inputs changed";
  // Per-file entries say more than the per-source summaries that cover them.
  if (changed.has("file")) changed.delete("src");
  return [...changed]
    .map(([kind, names]) => {
      const words = KIND_WORDS[kind] ?? kind;
      const shown = names.filter((n) => n !== "").slice(0, 5);
      const more = names.length > shown.length && shown.length > 0 ? ` (+${names.length - shown.length} more)` : "";
      return shown.length === 0 ? `${words} changed` : `${words} changed: ${shown.join(", ")}${more}`;
    })
    .join("; ");
}
