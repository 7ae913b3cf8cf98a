/**
 * The raw shape of the compiled addon (build/Release/bento.node). Only src/native/ sees it.
 */

/** What to put at one of the helper's file descriptors. */
export type ChildFd = "null" | "socket" | number;

/** Result of {@link NativeAddon.spawnHelper}. */
export interface SpawnedHelper {
  pid: number;
  /** A pidfd for the helper; handed to watchExit, which closes it. */
  pidfd: number;
  /** For each "socket" entry, the parent's end of a new socketpair; null elsewhere. */
  sockets: (number | null)[];
}

/** How a watched child ended. */
export interface ChildExit {
  exitCode: number | null;
  signal: number | null;
}

/** The functions the C++ addon exports. */
export interface NativeAddon {
  spawnHelper(options: { file: string; argv: string[]; fds: ChildFd[] }): SpawnedHelper;
  watchExit(pidfd: number, onExit: (exit: ChildExit) => void): void;
  flock(fd: number, mode: "exclusive" | "shared" | "unlock", wait: boolean): boolean;
}
