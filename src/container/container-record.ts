/**
 * What a container's directory in the store says about it, for processes other than its owner
 * (`bento inspect`, `bento port`): `config.json` (written once at create) and `ports.json`
 * (rewritten at each start, when the host ports are chosen). Both are plain data; readers
 * tolerate fields that are missing (files of older bento versions) and fields they do not know.
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BoundPort } from "../network/port-proxy.js";
import type { CgroupLimits } from "../runtime/cgroup/driver.js";
import type { NormalizedMount } from "./mounts.js";

/** A mount as the record keeps it (file mounts keep no content). */
export type RecordedMount =
  | { kind: "volume"; name: string; target: string; readonly: boolean }
  | { kind: "bind"; source: string; target: string; readonly: boolean }
  | { kind: "tmpfs"; target: string; readonly: boolean }
  | { kind: "file"; target: string };

/** The contents of a container's `config.json`. */
export interface ContainerRecord {
  id: string;
  name: string;
  /** The store image id it runs; null for a rootfs directory or a host image. */
  imageId: string | null;
  labels: Record<string, string>;
  /** The named volumes it mounts. */
  volumes: string[];
  /** The command line: entrypoint and command, after overrides. */
  argv?: string[];
  /** The process environment, `KEY=value`. */
  env?: string[];
  /** The working directory in the container. */
  cwd?: string;
  /** The user as given (`options.user`, else the image's USER), empty for root by default. */
  user?: string;
  hostname?: string;
  /** `none`, `host`, or the name of the network it joins. */
  networkMode?: string;
  limits?: CgroupLimits;
  readonlyRootfs?: boolean;
  init?: boolean;
  mounts?: RecordedMount[];
  /** The exposed ports of its image, `8080/tcp`. */
  exposedPorts?: string[];
  stopSignal?: string;
}

/** The record's form of the normalized mounts. */
export function recordedMounts(mounts: readonly NormalizedMount[]): RecordedMount[] {
  return mounts.map((m): RecordedMount => {
    switch (m.kind) {
      case "volume":
        return { kind: "volume", name: m.name, target: m.target, readonly: m.readonly };
      case "bind":
        return { kind: "bind", source: m.source, target: m.target, readonly: m.readonly };
      case "tmpfs":
        return { kind: "tmpfs", target: m.target, readonly: m.readonly };
      case "file":
        return { kind: "file", target: m.target };
    }
  });
}

/** Writes `config.json` into the container's directory. */
export function writeContainerRecord(containerDir: string, record: ContainerRecord): void {
  writeFileSync(join(containerDir, "config.json"), JSON.stringify(record));
}

/**
 * Writes the published ports with their host ports (`ports.json`), replacing the last start's.
 * A container publishes the same ports at every start, so one without any never had a file to
 * replace, and readers take a missing file as none: writing `[]` would only cost each start a
 * file creation and a rename.
 */
export function writePortsRecord(containerDir: string, ports: readonly BoundPort[]): void {
  if (ports.length === 0) return;
  const file = join(containerDir, "ports.json");
  writeFileSync(`${file}.tmp`, JSON.stringify(ports));
  renameSync(`${file}.tmp`, file);
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
}

/**
 * Reads a container's `config.json` and `ports.json`; undefined fields where they are missing.
 *
 * @example
 * ```ts
 * const { record, ports } = readContainerRecord(machineContainer.containerDir);
 * ```
 */
export function readContainerRecord(containerDir: string): { record: Partial<ContainerRecord>; ports: BoundPort[] | undefined } {
  const record = readJson(join(containerDir, "config.json"));
  const ports = readJson(join(containerDir, "ports.json"));
  return {
    record: record !== null && typeof record === "object" ? (record as Partial<ContainerRecord>) : {},
    ports: Array.isArray(ports) ? (ports as BoundPort[]) : undefined,
  };
}
