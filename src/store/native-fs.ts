/**
 * The typed native file-system primitives the store needs: mknod, the l*xattr family, syncfs and
 * removeTree from addon/fs.cc, and `flock` from addon/lock.cc. The addon is loaded by the shared loader
 * (`src/native/load.ts`); this file adds the types of the fs.cc functions and maps their errors.
 */
import { HostUnsupportedError, SystemCallError } from "../errors.js";
import { loadAddon } from "../native/load.js";

/** The raw surface of the addon functions the store calls. */
export interface NativeFs {
  /** mknod(2). `mode` includes the file type bits; `dev` is the encoded device number. */
  mknod(path: string, mode: number, dev: number | bigint): void;
  /** lsetxattr(2): never follows a final symlink. */
  lsetxattr(path: string, name: string, value: Buffer): void;
  /** lgetxattr(2): `null` when the attribute is absent. */
  lgetxattr(path: string, name: string): Buffer | null;
  /** llistxattr(2). */
  llistxattr(path: string): string[];
  /** syncfs(2) on the file system holding the directory `path`. */
  syncfs(path: string): void;
  /**
   * Deletes the tree at `path` (never following a symlink in it) in one thread-pool job; a
   * missing path is not an error. Rejects with the first failure's errno, syscall and path.
   */
  removeTree(path: string): Promise<void>;
  /** flock(2) on an open fd: false when `wait` is false and the lock is held elsewhere. */
  flock(fd: number, mode: "exclusive" | "shared" | "unlock", wait: boolean): boolean;
}

/** The fields the addon sets on the errors it throws (Node's SystemError shape). */
interface NativeErrorFields {
  code?: unknown;
  errno?: unknown;
  syscall?: unknown;
  path?: unknown;
}

let loaded: NativeFs | undefined;

/** The addon's file-system functions. Throws {@link HostUnsupportedError} when it cannot be loaded or is too old. */
export function nativeFs(): NativeFs {
  if (loaded) return loaded;
  const addon = loadAddon() as unknown as Partial<NativeFs>;
  for (const name of ["mknod", "lsetxattr", "lgetxattr", "llistxattr", "syncfs", "removeTree", "flock"] as const) {
    if (typeof addon[name] !== "function") {
      throw new HostUnsupportedError(`bento's native addon has no ${name}(): it was built from older sources; rebuild it with "npx node-gyp rebuild"`);
    }
  }
  loaded = addon as NativeFs;
  return loaded;
}

/** True when `e` came from the addon (or fs) with an errno code such as `code`. */
export function isErrno(e: unknown, ...codes: string[]): boolean {
  return typeof e === "object" && e !== null && codes.includes(String((e as NativeErrorFields).code));
}

/** Turns an addon or fs error into a {@link SystemCallError} that says what was being done. */
export function systemError(context: string, e: unknown): unknown {
  if (typeof e !== "object" || e === null) return e;
  const fields = e as NativeErrorFields;
  if (typeof fields.code !== "string" || typeof fields.errno !== "number" || typeof fields.syscall !== "string") {
    return e;
  }
  return new SystemCallError(
    context,
    {
      errnoCode: fields.code,
      errno: fields.errno,
      syscall: fields.syscall,
      ...(typeof fields.path === "string" ? { path: fields.path } : {}),
    },
    { cause: e },
  );
}
