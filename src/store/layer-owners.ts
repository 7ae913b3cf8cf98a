/**
 * The seam through which a rootless store keeps layer owners. The store writes files as the
 * user and cannot give them away; the runtime, which holds the user namespace, installs a way
 * to set owners from inside it, and unpacking hands it every entry's owner.
 */

/** Owners to set under one directory once its files are written. */
export interface OwnerBatch {
  set(path: string, uid: number, gid: number): void;
  /** Gives a regular file its `security.capability` (v2, as the layer has it), after the owners. */
  setCapability(path: string, value: Buffer): void;
  apply(): Promise<void>;
}

let batchFor: ((root: string) => OwnerBatch) | undefined;
let removeOthers: ((paths: readonly string[]) => Promise<void>) | undefined;

/**
 * Installs how owners are set, and how trees holding files of those owners are deleted (the
 * runtime does, rootless with a subordinate id range: both from inside the user namespace).
 */
export function installLayerOwners(factory: (root: string) => OwnerBatch, remove: (paths: readonly string[]) => Promise<void>): void {
  batchFor = factory;
  removeOthers = remove;
}

/** Deletes trees the user may not (files of other owners), when the runtime installed a way. */
export async function removeTreesOfOthers(paths: readonly string[]): Promise<boolean> {
  if (!removeOthers) return false;
  await removeOthers(paths);
  return true;
}

/** A batch for the tree at `root`, or undefined when nothing was installed (owners are lost). */
export function layerOwnerBatch(root: string): OwnerBatch | undefined {
  return batchFor?.(root);
}
