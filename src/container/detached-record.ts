/**
 * What another process needs to run commands in, and stop, a detached container: its process
 * settings (an exec inherits them), its network mode, its layers and its stop signal. Written
 * into the container's state dir when it is created, and removed with it.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ProcessSpec } from "../runtime/container-plan.js";

/** A detached container's settings, as another process reads them. */
export interface DetachedRecord {
  process: ProcessSpec;
  network: "none" | "host";
  /** The image's layers, top-first (the container's upper dir goes above them). */
  lowerDirs: string[];
  /** The signal a stop sends first (a number). */
  stopSignal: number;
  stopTimeoutMs: number;
}

const file = (stateDir: string) => join(stateDir, "detached.json");

/** Writes the record (capabilities, a bigint, as a decimal string). */
export function writeDetachedRecord(stateDir: string, record: DetachedRecord): void {
  writeFileSync(file(stateDir), JSON.stringify({ ...record, process: { ...record.process, capabilities: record.process.capabilities.toString() } }), { mode: 0o600 });
}

/** The record, or undefined when the container was not started detached (or is being removed). */
export function readDetachedRecord(stateDir: string): DetachedRecord | undefined {
  try {
    const raw = JSON.parse(readFileSync(file(stateDir), "utf8")) as DetachedRecord & { process: { capabilities: string } };
    return { ...raw, process: { ...raw.process, capabilities: BigInt(raw.process.capabilities) } };
  } catch {
    return undefined;
  }
}
