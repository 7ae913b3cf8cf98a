/**
 * Typed access to the addon's seccomp compiler (addon/seccomp.cc, libseccomp linked statically).
 */
import type { NativeAddon } from "./addon.js";
import { loadAddon } from "./load.js";

/** A resolved filter: kernel action values, libseccomp architecture names and comparison ops. */
export type NativeSeccompFilter = Parameters<NativeAddon["compileSeccomp"]>[0];

/** A compiled filter: sock_filter bytes, and the syscalls this machine's libseccomp does not know. */
export interface CompiledSeccomp {
  program: Buffer;
  skipped: string[];
}

/** Compiles a resolved filter to classic BPF. */
export function compileSeccomp(filter: NativeSeccompFilter): CompiledSeccomp {
  return loadAddon().compileSeccomp(filter);
}
