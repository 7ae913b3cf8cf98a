/**
 * Rootless `COPY --from`: a stage's or image's layers hold files of other container users
 * (subordinate ids, mode 0600 or 0700) that the user may not read. Root of the user namespace
 * copies what the sources name out of the layers (seen as overlay shows them, paths resolved
 * as the container would), the copy is made the user's, and the owners and modes the files had
 * are kept beside it for the new layer.
 */
import { existsSync, mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { stageAsNamespaceRoot, takeTree, type TakenEntry } from "../runtime/rootless-owner.js";
import { removeAsNamespaceRoot } from "../runtime/user-namespace.js";
import { tempName } from "../store/fs-util.js";
import { hasWildcards } from "./context.js";
import { LayeredView } from "./layered-view.js";

/** A readable copy of the parts of an image that `COPY --from` sources name. */
export interface ReadableSource {
  /** A view of the copy (paths as in the image). */
  view: LayeredView;
  /** What each copied entry had in the image: owner (container ids) and mode, by path. */
  owners: ReadonlyMap<string, TakenEntry>;
  /** Removes the copy. */
  remove(): void;
}

/**
 * Copies what `sources` name in the image of `dirs` (top layer first) under `tmpDir`. A source
 * with wildcards is copied from the directory its first wildcard name is in.
 */
export async function readableSource(dirs: readonly string[], sources: readonly string[], tmpDir: string): Promise<ReadableSource> {
  const root = path.join(tmpDir, tempName());
  try {
    for (const source of sources) {
      const segments = path.posix.normalize(`/${source}`).split("/").filter(Boolean);
      const wild = segments.findIndex(hasWildcards);
      const rel = (wild < 0 ? segments : segments.slice(0, wild)).join("/");
      const to = path.join(root, rel);
      if (rel === "") {
        rmSync(root, { recursive: true, force: true });
        mkdirSync(path.dirname(root), { recursive: true });
        await stageAsNamespaceRoot(dirs, "/", root, true);
        break;
      }
      // Copied already with a source it is under (or the same source twice).
      if (existsSync(to)) continue;
      mkdirSync(path.dirname(to), { recursive: true });
      // A source that is not there stays missing: COPY names it as the view would.
      await stageAsNamespaceRoot(dirs, rel, to, true);
    }
    mkdirSync(root, { recursive: true });
    const owners = await takeTree(root, `${root}.owners`);
    return { view: new LayeredView([root]), owners, remove: () => rmSync(root, { recursive: true, force: true }) };
  } catch (e) {
    // Copied files may still be other container users': the namespace's root removes them.
    await removeAsNamespaceRoot([root]);
    throw e;
  }
}
