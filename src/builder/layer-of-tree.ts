/**
 * A layer from a tree bento may change (a finished RUN step's upper dir, a COPY layer, a commit's
 * copy). Rootless, container users' files in it belong to subordinate ids the user may not read:
 * the tree is first made the user's from inside the user namespace, and the layer records the
 * owners and modes the container gave the files.
 */
import { join } from "node:path";
import { takeTree } from "../runtime/rootless-owner.js";
import { isRootless } from "../runtime/user-namespace.js";
import type { ImageStore } from "../store/image-store.js";
import type { LayerInfo } from "../store/types.js";
import { tempName } from "../store/fs-util.js";

/**
 * The gzip layer of `dir`; rootless, `dir` is the user's afterwards. `written`: bento wrote the
 * tree itself (COPY, ADD, WORKDIR; not an overlay upper dir): as root it may become the layer's
 * unpacked directory (it is gone from `dir` then).
 */
export async function layerOfTree(store: ImageStore, dir: string, written = false): Promise<LayerInfo> {
  if (!isRootless()) return store.createLayerFromDir(dir, undefined, written);
  const recorded = await takeTree(dir, join(store.tmpDir, `${tempName()}.owners`));
  return store.createLayerFromDir(dir, recorded);
}
