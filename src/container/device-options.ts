/**
 * The `devices` option: host device nodes a container may use, as `docker run --device`. Each is
 * checked here (it must exist and be a device), so a bad entry changes nothing.
 */
import { lstatSync, type BigIntStats } from "node:fs";
import { InvalidOptionError } from "../errors.js";
import { deviceNode, type DeviceNode } from "../runtime/host-devices.js";

/**
 * A device to give the container: `"/dev/fuse"`, docker's `"/dev/net/tun:/dev/tun:rwm"`
 * (host path, path in the container, access), or the same as an object.
 *
 * @example
 * ```ts
 * new Container(image, { devices: ["/dev/fuse", { path: "/dev/net/tun", target: "/dev/tun", access: "rw" }] });
 * ```
 */
export type DeviceSpec =
  | string
  | {
      /** The node on the host. */
      path: string;
      /** Its path in the container, under /dev (default: the host path). */
      target?: string;
      /** Some of "r" (read), "w" (write), "m" (mknod); default "rwm". */
      access?: string;
    };

const accessPattern = /^(?!.*(.).*\1)[rwm]{1,3}$/;

function parseEntry(option: string, spec: DeviceSpec): { path: string; target: string; access: string } {
  if (typeof spec === "string") {
    const parts = spec.split(":");
    if (parts.length > 3 || parts.some((p) => p === "")) throw new InvalidOptionError(option, `${JSON.stringify(spec)} is not "host path[:container path][:access]", such as "/dev/net/tun:/dev/tun:rwm"`);
    const [path, second, third] = parts as [string, string?, string?];
    // Docker's short form: a second part of only access letters is the access, not a path.
    if (third === undefined && second !== undefined && accessPattern.test(second)) return { path, target: path, access: second };
    return { path, target: second ?? path, access: third ?? "rwm" };
  }
  if (typeof spec !== "object" || spec === null || typeof spec.path !== "string") throw new InvalidOptionError(option, 'expected a path such as "/dev/fuse", or { path, target?, access? }');
  return { path: spec.path, target: spec.target ?? spec.path, access: spec.access ?? "rwm" };
}

/**
 * Checks the `devices` option against this machine's nodes.
 *
 * @example
 * ```ts
 * normalizeDevices(["/dev/fuse"]); // [{ source: "/dev/fuse", target: "/dev/fuse", type: "c", major: 10, minor: 229, mode: 0o666, access: "rwm" }]
 * ```
 */
export function normalizeDevices(devices: readonly DeviceSpec[] | undefined): DeviceNode[] {
  if (devices === undefined) return [];
  if (!Array.isArray(devices)) throw new InvalidOptionError("devices", 'must be an array, such as ["/dev/fuse"]');
  const seen = new Set<string>();
  return devices.map((spec, i) => {
    const option = `devices[${i}]`;
    const { path, target, access } = parseEntry(option, spec);
    if (!path.startsWith("/")) throw new InvalidOptionError(option, `"${path}" must be an absolute host path such as "/dev/fuse"`);
    if (!/^\/dev\/[^\0\n]+$/.test(target) || target.split("/").includes("..")) throw new InvalidOptionError(option, `"${target}" must be a path under /dev without "..", such as "/dev/tun"`);
    if (!accessPattern.test(access)) throw new InvalidOptionError(option, `"${access}" is not an access: use some of "r", "w" and "m", such as "rwm"`);
    if (seen.has(target)) throw new InvalidOptionError(option, `"${target}" is given twice; keep one entry`);
    seen.add(target);
    let stat: BigIntStats;
    try {
      stat = lstatSync(path, { bigint: true });
    } catch (error) {
      throw new InvalidOptionError(option, `"${path}" does not exist on this machine (${(error as NodeJS.ErrnoException).code ?? "EIO"}); load the driver that makes it, or remove the entry`);
    }
    const node = deviceNode(stat, path, target, access);
    if (node === undefined) throw new InvalidOptionError(option, `"${path}" is not a character or block device; name a device node such as "/dev/fuse"`);
    return node;
  });
}
