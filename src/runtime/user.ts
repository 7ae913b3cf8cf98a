/**
 * Resolves a container's `user` ("name", "uid", "name:group", "uid:gid") against the image's
 * /etc/passwd and /etc/group, as Docker does: names must exist, numbers need not; supplementary
 * groups come from /etc/group; HOME comes from passwd.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { InvalidOptionError } from "../errors.js";

/** A resolved user. */
export interface ResolvedUser {
  uid: number;
  gid: number;
  groups: number[];
  home: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}
interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/** Reads a file from the first of the rootfs layers (top-first) that has it. */
function readFromLayers(layers: readonly string[], rel: string): string {
  for (const dir of layers) {
    try {
      return readFileSync(join(dir, rel), "utf8");
    } catch {
      // not in this layer
    }
  }
  return "";
}

export function parsePasswd(text: string): PasswdEntry[] {
  return text
    .split("\n")
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => {
      const f = l.split(":");
      return { name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5] || "/" };
    });
}

export function parseGroup(text: string): GroupEntry[] {
  return text
    .split("\n")
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => {
      const f = l.split(":");
      return { name: f[0]!, gid: Number(f[2]), members: (f[3] ?? "").split(",").filter(Boolean) };
    });
}

const isNumber = (s: string) => /^\d+$/.test(s);

/** The largest id bento passes to the kernel: ids are 32-bit, and -1 (4294967295) means "unchanged" to setresuid(2). */
export const maxId = 2147483647;

/**
 * Parses a numeric uid or gid, refusing what the kernel would wrap or read as "no change":
 * `"4294967296"` would otherwise become uid 0 (CVE-class id wrap, cf. runc's user.ParseID).
 */
export function parseId(option: string, kind: "uid" | "gid", text: string): number {
  const id = Number(text);
  if (!Number.isSafeInteger(id) || id < 0 || id > maxId) {
    throw new InvalidOptionError(option, `${kind} "${text}" is outside 0..${maxId}; use an id in that range`);
  }
  return id;
}

/** Checks the numeric parts of a `user` spec ("uid", "uid:gid", "name:gid") without reading any image. */
export function checkUserSpec(option: string, spec: string): void {
  const [userPart = "", groupPart] = spec.split(":", 2);
  if (isNumber(userPart)) parseId(option, "uid", userPart);
  if (groupPart !== undefined && isNumber(groupPart)) parseId(option, "gid", groupPart);
}

/** Resolves `user` inside an image whose layers are `layers` (top-first). */
export function resolveUser(user: string | undefined, layers: readonly string[]): ResolvedUser {
  const spec = user ?? "";
  const [userPart = "", groupPart] = spec.split(":", 2);
  const passwd = parsePasswd(readFromLayers(layers, "etc/passwd"));
  const groups = parseGroup(readFromLayers(layers, "etc/group"));
  let uid = 0,
    gid = 0,
    home = "/",
    name: string | undefined;
  if (userPart === "") {
    const root = passwd.find((p) => p.uid === 0);
    name = root?.name;
    home = root?.home ?? "/root";
  } else if (isNumber(userPart)) {
    uid = parseId("user", "uid", userPart);
    const entry = passwd.find((p) => p.uid === uid);
    if (entry) ({ name, gid, home } = entry);
  } else {
    const entry = passwd.find((p) => p.name === userPart);
    if (!entry) throw new InvalidOptionError("user", `no user "${userPart}" in the image's /etc/passwd; use a name it defines or a numeric uid`);
    ({ name, uid, gid, home } = entry);
  }
  if (groupPart !== undefined && groupPart !== "") {
    if (isNumber(groupPart)) gid = parseId("user", "gid", groupPart);
    else {
      const g = groups.find((e) => e.name === groupPart);
      if (!g) throw new InvalidOptionError("user", `no group "${groupPart}" in the image's /etc/group; use a name it defines or a numeric gid`);
      gid = g.gid;
    }
  }
  // An image's /etc/passwd or /etc/group may hold ids the kernel would wrap, too.
  parseId("user", "uid", String(uid));
  parseId("user", "gid", String(gid));
  const supplementary = name === undefined || groupPart ? [] : groups.filter((g) => g.members.includes(name!) && g.gid !== gid).map((g) => g.gid);
  return { uid, gid, groups: [gid, ...supplementary], home };
}
