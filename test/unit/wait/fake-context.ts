/**
 * A WaitContext over plain data, for strategy unit tests: no container, no privileges.
 */
import type { LogLine } from "../../../src/runtime/logs.js";
import type { ExitStatus } from "../../../src/runtime/wait-status.js";
import type { HealthState } from "../../../src/wait/healthcheck.js";
import { abortableSleep, type HealthWatch, type WaitContext, type WaitExecResult } from "../../../src/wait/wait-strategy.js";

export interface FakeContext extends WaitContext {
  controller: AbortController;
  notes: Map<string, string>;
  listening: number[] | undefined;
}

export function fakeContext(
  parts: { lines?: LogLine[]; exec?: (argv: string[]) => Promise<WaitExecResult>; exited?: Promise<ExitStatus>; health?: HealthWatch; defaultPorts?: number[]; hostPorts?: Record<number, number> } = {},
): FakeContext {
  const controller = new AbortController();
  const notes = new Map<string, string>();
  const context: FakeContext = {
    controller,
    notes,
    listening: undefined,
    name: "fake",
    signal: controller.signal,
    pid: 2 ** 22 + 1,
    host: "127.0.0.1",
    defaultPorts: parts.defaultPorts ?? [],
    hostPort: (port) => parts.hostPorts?.[port],
    exec: parts.exec ?? (async () => ({ exitCode: 0, stdout: "", stderr: "" })),
    logLines: async function* () {
      for (const line of parts.lines ?? []) yield line;
    },
    exited: parts.exited ?? new Promise<ExitStatus>(() => undefined),
    health: parts.health,
    sleep: (ms) => abortableSleep(ms, controller.signal),
    note: (d, o) => void notes.set(d, o),
    noteListeningPorts: (ports) => void (context.listening = [...ports]),
  };
  return context;
}

export const line = (text: string, stream: "stdout" | "stderr" = "stdout"): LogLine => ({ stream, text: `${text}\n`, timestamp: "2025-01-01T00:00:00.000000000Z" });

/** A HealthWatch whose states are pushed by the test. */
export function fakeHealth(initial: HealthState): HealthWatch & { push(state: HealthState): void } {
  let state = initial;
  let listeners: (() => void)[] = [];
  return {
    state: () => state,
    changed: () => new Promise<void>((resolve) => listeners.push(resolve)),
    push(next) {
      state = next;
      const due = listeners;
      listeners = [];
      for (const l of due) l();
    },
  };
}
