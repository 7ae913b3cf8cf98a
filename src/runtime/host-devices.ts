/**
 * Device nodes of this machine, as a container gets them: one named by the `devices` option, or
 * every one for a privileged container (the way runc lists host devices for Docker's --privileged).
 */
import { accessSync, constants, lstatSync, readdirSync, type BigIntStats } from "node:fs";
import { join } from "node:path";

/** A host device node to recreate in a container. */
export interface DeviceNode {
  /** Its path on the host. */
  source: string;
  /** Its path in the container (under /dev). */
  target: string;
  type: "c" | "b";
  major: number;
  minor: number;
  /** Its permission bits on the host, which the node in the container keeps. */
  mode: number;
  /** What the device policy allows: some of "r", "w", "m". */
  access: string;
}

/** major(3) and minor(3) of glibc's dev_t encoding. */
function majorMinor(rdev: bigint): [number, number] {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return [Number(major), Number(minor)];
}

/**
 * The node at `source` (not following a symlink), or undefined when it is not a character or
 * block device.
 *
 * @example
 * ```ts
 * deviceNode(lstatSync("/dev/fuse", { bigint: true }), "/dev/fuse", "/dev/fuse", "rwm"); // { type: "c", major: 10, minor: 229, ... }
 * ```
 */
export function deviceNode(stat: BigIntStats, source: string, target: string, access: string): DeviceNode | undefined {
  const type = stat.isCharacterDevice() ? "c" : stat.isBlockDevice() ? "b" : undefined;
  if (type === undefined) return undefined;
  const [major, minor] = majorMinor(stat.rdev);
  return { source, target, type, major, minor, mode: Number(stat.mode & 0o7777n), access };
}

// Directories and nodes a container's /dev already has of its own (runc skips the same ones).
const skippedDirs = new Set(["pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev"]);
const ownNodes = new Set(["console", "ptmx", "null", "zero", "full", "random", "urandom", "tty"]);

/**
 * Every character and block device under the host's /dev, for a privileged container.
 *
 * @example
 * ```ts
 * hostDevices().find((d) => d.target === "/dev/fuse");
 * ```
 */
export function hostDevices(dir = "/dev"): DeviceNode[] {
  const out: DeviceNode[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names.sort()) {
    const path = join(dir, name);
    let stat: BigIntStats;
    try {
      stat = lstatSync(path, { bigint: true });
    } catch {
      continue; // gone meanwhile
    }
    if (stat.isDirectory()) {
      if (!skippedDirs.has(name)) out.push(...hostDevices(path));
      continue;
    }
    if (dir === "/dev" && ownNodes.has(name)) continue;
    const node = deviceNode(stat, path, path, "rwm");
    if (node) out.push(node);
  }
  return out;
}

/**
 * Whether this process may open /dev/net/tun, which slirp4netns opens inside a namespace to give
 * it outbound access. Root always may; a user may where udev's default rules made it mode 0666
 * (hosts without udev keep it at 0600).
 *
 * @example
 * ```ts
 * if (!tunDeviceOpen()) console.log("rootless RUN steps get no outbound network here");
 * ```
 */
export function tunDeviceOpen(): boolean {
  return deviceOpen("/dev/net/tun");
}

/** Whether this process may open the device node `path` for reading and writing. */
export function deviceOpen(path: string): boolean {
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** The fix for {@link tunDeviceOpen} being false for a user. */
export const TUN_FIX = "chmod 0666 /dev/net/tun, as udev's default rules do (or use RUN --network=host for a step that needs the host's network)";
