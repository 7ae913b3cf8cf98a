/**
 * Detach keys of `bento attach`, as docker's: a key sequence typed at the terminal leaves the
 * container running and ends the attach (default Ctrl-P Ctrl-Q). Keys that start the sequence
 * are held back until it is clear whether it completes; when it does not, they go on as typed.
 */
import type { Writable } from "node:stream";
import { UsageError } from "./args.js";

/** docker's default: Ctrl-P then Ctrl-Q. */
export const DEFAULT_DETACH_KEYS = "ctrl-p,ctrl-q";

/**
 * The bytes of a `--detach-keys` value: comma-separated keys, each a letter or `ctrl-` and one of
 * a-z, @, [, \, ], ^ or _ (docker's format).
 */
export function parseDetachKeys(spec: string, usage: string): number[] {
  return spec.split(",").map((key) => {
    if (/^[a-zA-Z]$/.test(key)) return key.charCodeAt(0);
    const ctrl = /^ctrl-([a-z@[\\\]^_])$/.exec(key);
    // Control keys are the character's code with bits 5 and 6 cleared (Ctrl-P is 0x10, Ctrl-@ is 0).
    if (ctrl) return ctrl[1]!.toUpperCase().charCodeAt(0) & 0x1f;
    throw new UsageError(`--detach-keys "${spec}": "${key}" is not a key; use a letter or ctrl- with a-z, @, [, \\, ], ^ or _, comma-separated (default ${DEFAULT_DETACH_KEYS})`, usage);
  });
}

/**
 * Copies our standard input to `input` until the `keys` sequence is typed, which calls
 * `onDetach` instead of forwarding it. Returns what stops copying.
 */
export function forwardInputUntilDetach(input: Writable, keys: readonly number[], onDetach: () => void): () => void {
  const stdin = process.stdin;
  let held: number[] = [];
  const onData = (chunk: Buffer) => {
    const out: number[] = [];
    for (const byte of chunk) {
      if (byte === keys[held.length]) {
        held.push(byte);
        if (held.length === keys.length) {
          if (out.length > 0) input.write(Buffer.from(out));
          stop();
          onDetach();
          return;
        }
        continue;
      }
      // Not the sequence after all: what was held goes on, and this key starts it again or not.
      out.push(...held);
      held = [];
      if (byte === keys[0]) held.push(byte);
      else out.push(byte);
    }
    if (out.length > 0) input.write(Buffer.from(out));
  };
  const onEnd = () => input.end();
  const stop = () => {
    stdin.off("data", onData);
    stdin.off("end", onEnd);
    stdin.pause();
  };
  stdin.on("data", onData);
  stdin.once("end", onEnd);
  return stop;
}
