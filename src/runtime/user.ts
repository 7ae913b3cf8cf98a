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

interface PasswdEntry { name: string; uid: number; gid: number; home: string }
interface GroupEntry { name: string; gid: number; members: string[] }

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
  return text.split("\n").filter((l) => l && !l.startsWith("#")).map((l) => {
    const f = l.split(":");
    return { name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5] || "/" };
  });
}

export function parseGroup(text: string): GroupEntry[] {
  return text.split("\n").filter((l) => l && !l.startsWith("#")).map((l) => {
    const f = l.split(":");
    return { name: f[0]!, gid: Number(f[2]), members: (f[3] ?? "").split(",").filter(Boolean) };
  });
}

const isNumber = (s: string) => /^\d+$/.test(s);

/** Resolves `user` inside an image whose layers are `layers` (top-first). */
export function resolveUser(user: string | undefined, layers: readonly string[]): ResolvedUser {
  const spec = user ?? "";
  const [userPart = "", groupPart] = spec.split(":", 2);
  const passwd = parsePasswd(readFromLayers(layers, "etc/passwd"));
  const groups = parseGroup(readFromLayers(layers, "etc/group"));
  let uid = 0, gid = 0, home = "/", name: string | undefined;
  if (userPart === "") {
    const root = passwd.find((p) => p.uid === 0);
    name = root?.name;
    home = root?.home ?? "/root";
  } else if (isNumber(userPart)) {
    uid = Number(userPart);
    const entry = passwd.find((p) => p.uid === uid);
    if (entry) ({ name, gid, home } = entry);
  } else {
    const entry = passwd.find((p) => p.name === userPart);
    if (!entry) throw new InvalidOptionError("user", `no user "${userPart}" in the image's /etc/passwd; use a name it defines or a numeric uid`);
    ({ name, uid, gid, home } = entry);
  }
  if (groupPart !== undefined && groupPart !== "") {
    if (isNumber(groupPart)) gid = Number(groupPart);
    else {
      const g = groups.find((e) => e.name === groupPart);
      if (!g) throw new InvalidOptionError("user", `no group "${groupPart}" in the image's /etc/group; use a name it defines or a numeric gid`);
      gid = g.gid;
    }
  }
  const supplementary = name === undefined || groupPart ? [] : groups.filter((g) => g.members.includes(name!) && g.gid !== gid).map((g) => g.gid);
  return { uid, gid, groups: [gid, ...supplementary], home };
}
