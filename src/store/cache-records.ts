/**
 * Build-cache records: small JSON files under `cache/<key>`, written atomically, read back as
 * undefined when missing or unreadable.
 */
import { join } from "node:path";
import { InvalidOptionError } from "../errors.js";
import { readFileIfExists, writeFileAtomic } from "./fs-util.js";
import type { StoreContext } from "./store-context.js";

const CACHE_KEY = /^[A-Za-z0-9_-][A-Za-z0-9_.:-]{0,199}$/;

function cachePath(ctx: StoreContext, key: string): string {
  if (!CACHE_KEY.test(key)) throw new InvalidOptionError("key", `"${key}" is not a cache key ([A-Za-z0-9_.:-], at most 200, not starting with ".")`);
  return join(ctx.root, "cache", key);
}

/** Reads the build-cache record `cache/<key>` (JSON), or undefined. */
export async function getCacheRecord<T>(ctx: StoreContext, key: string): Promise<T | undefined> {
  await ctx.init();
  const data = await readFileIfExists(cachePath(ctx, key));
  if (data === undefined) return undefined;
  try {
    return JSON.parse(data.toString("utf8")) as T;
  } catch {
    return undefined;
  }
}

/** Writes the build-cache record `cache/<key>` (JSON), atomically. */
export async function putCacheRecord(ctx: StoreContext, key: string, record: unknown): Promise<void> {
  await ctx.init();
  await writeFileAtomic(cachePath(ctx, key), `${JSON.stringify(record)}\n`, ctx.tmpDir);
}
