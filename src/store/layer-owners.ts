/**
 * The seam through which a rootless store keeps layer owners. The store writes files as the
 * user and cannot give them away; the runtime, which holds the user namespace, installs a way
 * to set owners from inside it, and unpacking hands it every entry's owner.
 */

/** Owners to set under one directory once its files are written. */
export interface OwnerBatch {
  set(path: string, uid: number, gid: number): void;
  apply(): Promise<void>;
}

let batchFor: ((root: string) => OwnerBatch) | undefined;

/** Installs how owners are set (the runtime does, rootless with a subordinate id range). */
export function installLayerOwners(factory: (root: string) => OwnerBatch): void {
  batchFor = factory;
}

/** A batch for the tree at `root`, or undefined when nothing was installed (owners are lost). */
export function layerOwnerBatch(root: string): OwnerBatch | undefined {
  return batchFor?.(root);
}
