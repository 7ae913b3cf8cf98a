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
  /** How many bytes of `input` were written before the spawn (the rest is the caller's). */
  inputWritten: number;
}

/** How a watched child ended. */
export interface ChildExit {
  exitCode: number | null;
  signal: number | null;
}

/** The functions the C++ addon exports. */
export interface NativeAddon {
  /** `keepOpen`: index of a "socket" fd whose parent end the addon keeps a process-wide copy of. */
  spawnHelper(options: { file: string; argv: string[]; fds: ChildFd[]; keepOpen?: number; input?: { fd: number; data: Buffer } }): SpawnedHelper;
  /** Closes the copy spawnHelper kept for this helper. */
  releaseHelper(pid: number): void;
  watchExit(pidfd: number, onExit: (exit: ChildExit) => void): void;
  flock(fd: number, mode: "exclusive" | "shared" | "unlock", wait: boolean): boolean;
  /** Asks a shim (through its port channel) for a TCP socket connected to `port` inside its container. */
  connectInContainer(channelFd: number, port: number): Promise<number>;
  /** Hands two connected sockets to the relay thread (it keeps copies; close yours). */
  relay(clientFd: number, upstreamFd: number): void;
  /** Closes a port channel (after any request on it finished). */
  closeChannel(channelFd: number): void;
  /** Compiles a resolved seccomp filter to classic BPF (struct sock_filter bytes). */
  compileSeccomp(filter: { defaultAction: number; badArchAction: number; architectures: string[]; rules: { syscall: string; action: number; args: { index: number; op: number; value: bigint; valueTwo: bigint }[] }[] }): {
    program: Buffer;
    skipped: string[];
  };
}
