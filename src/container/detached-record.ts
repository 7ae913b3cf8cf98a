/**
 * What another process needs to run commands in, and stop, a detached container: its process
 * settings (an exec inherits them), its network mode, its layers and its stop signal. Written
 * into the container's state dir when it is created, and removed with it.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ProcessSpec, RuntimeSpec } from "../runtime/container-plan.js";

/** A detached container's settings, as another process reads them. */
export interface DetachedRecord {
  process: ProcessSpec;
  network: "none" | "host";
  /** The image's layers, top-first (the container's upper dir goes above them). */
  lowerDirs: string[];
  /** The signal a stop sends first (a number). */
  stopSignal: number;
  stopTimeoutMs: number;
  /**
   * What another process needs to start it again once it exited (`bento start`): its runtime
   * spec, with "host" as the only shared namespace. Absent when it shares a namespace of another
   * container, joins a Network, or has egress: those live in the process that started it.
   */
  spec?: RuntimeSpec;
}

const file = (stateDir: string) => join(stateDir, "detached.json");

/** Writes the record (capabilities, a bigint, as a decimal string). */
export function writeDetachedRecord(stateDir: string, record: DetachedRecord): void {
  writeFileSync(
    file(stateDir),
    JSON.stringify(record, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value)),
    { mode: 0o600 },
  );
}

/** The record, or undefined when the container was not started detached (or is being removed). */
export function readDetachedRecord(stateDir: string): DetachedRecord | undefined {
  try {
    const raw = JSON.parse(readFileSync(file(stateDir), "utf8")) as DetachedRecord;
    const withCapabilities = (p: ProcessSpec): ProcessSpec => ({ ...p, capabilities: BigInt(p.capabilities as unknown as string) });
    return { ...raw, process: withCapabilities(raw.process), ...(raw.spec ? { spec: { ...raw.spec, process: withCapabilities(raw.spec.process) } } : {}) };
  } catch {
    return undefined;
  }
}
