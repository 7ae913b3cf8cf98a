/**
 * Runs a synchronous cleanup when the process ends, without changing how it ends: the status it
 * exits with (`process.exitCode`, `process.exit(n)`, 1 after an uncaught error, which Node prints
 * itself), or the signal it dies of.
 *
 * Node calls "exit" listeners on every ending except death by a signal, with the status already
 * chosen, so the cleanup runs there. Signals differ: listening to
 * SIGINT, SIGTERM or SIGHUP replaces Node's default (die of the signal). When the program has no
 * listener of its own, the cleanup runs and the signal is raised again with the default action
 * restored, so the parent sees a death by that signal (a shell prints 130 or 143, and stops a
 * loop on Ctrl-C). When the program listens too (vitest does), it decides: if it exits, "exit"
 * runs the cleanup; if it carries on, its containers are still in use. async-exit-hook, used
 * before, ended every path with `process.exit(code)`, and `process.exit(0)` on "beforeExit",
 * so a failing vitest run exited 0.
 */
import { constants } from "node:os";

const endingSignals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/**
 * Calls `cleanup` once when the process ends (normal end, `process.exit`, an uncaught error,
 * SIGINT, SIGTERM or SIGHUP), keeping the exit status or the signal the process ends with.
 *
 * @example
 * ```ts
 * onProcessEnd(() => removeEverythingSync());
 * ```
 */
export function onProcessEnd(cleanup: () => void): void {
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    cleanup();
  };
  // First in line: a listener that calls process.exit() from "exit" (vitest's does, after its
  // SIGINT handler called it) ends the process on the spot, skipping the listeners after it.
  process.prependListener("exit", once);
  for (const signal of endingSignals) {
    const onSignal = () => {
      if (process.listenerCount(signal) > 1) return;
      once();
      process.removeListener(signal, onSignal);
      // With no listener left, libuv restores the default action, so this kills the process.
      process.kill(process.pid, signal);
      // Reached only if the signal is ignored or blocked: end with the status a shell would show.
      process.exit(128 + constants.signals[signal]);
    };
    process.on(signal, onSignal);
  }
}
