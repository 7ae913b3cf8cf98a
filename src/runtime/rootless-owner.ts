/**
 * Setting owners from Node. Root sets any; rootless, Node cannot give files away (that needs the
 * user namespace), but the user's own ids are root's in a container, so an owner of 0 (or the
 * user) is what the file already has, and any other owner is refused with the way out.
 */
import { lchownSync } from "node:fs";
import { HostUnsupportedError } from "../errors.js";

const uid = process.geteuid?.() ?? 0;
const gid = process.getegid?.() ?? 0;

/** lchown as root; rootless, a no-op for root's (or the user's own) ids, an error for others. */
export function setOwner(path: string, owner: { uid: number; gid: number }, what: string): void {
  if (uid === 0) return lchownSync(path, owner.uid, owner.gid);
  const own = (id: number, mine: number) => id === 0 || id === mine;
  if (own(owner.uid, uid) && own(owner.gid, gid)) return;
  throw new HostUnsupportedError(`${what}: owner ${owner.uid}:${owner.gid}: rootless, bento cannot give files to other owners yet (only root's, which are yours); run as root, or leave the owner as root`);
}
