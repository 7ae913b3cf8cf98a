/**
 * Extracting a tar that is not an image layer (ADD's local archives, volume imports) into a
 * directory, as Docker does with the extraction chrooted into the destination: names that would
 * leave it (`..`, absolute names, symlinked parents leading out) are refused, symlinks are kept
 * exactly as stored (an absolute target is data, resolved only inside a container), a hardlink is
 * made to the earlier entry it names, and `.wh.` names are ordinary files. A device node that cannot
 * be created (rootless) is refused, naming the entry, rather than dropped. Owners are kept as root;
 * rootless the files are the user's (root's in a container), and `deferOwner` hears each entry's
 * owner to set it later.
 */
import { applyLayer, type ApplyLayerOptions } from "./apply-layer.js";
import { keepLayerXattr } from "./layers.js";
import type { TarEntry } from "./tar-reader.js";

/**
 * Applies `entries` under `destDir`; `context` names the archive in errors. With `within`,
 * `destDir` is an image layer's root and the names go under `within.under`, resolved through the
 * image below (ADD).
 *
 * @example
 * ```ts
 * await extractTree(readTar(stream, "archive vendor.tar"), "/tmp/layer/opt", "extract vendor.tar");
 * ```
 */
export async function extractTree(entries: AsyncIterable<TarEntry>, destDir: string, context: string, deferOwner?: ApplyLayerOptions["deferOwner"], within?: Pick<ApplyLayerOptions, "under" | "lowerParent">): Promise<void> {
  const root = process.geteuid?.() === 0;
  await applyLayer(entries, destDir, {
    context,
    chown: root,
    ...(root || !deferOwner ? {} : { deferOwner }),
    devices: root,
    uncreatableDevices: "refuse",
    whiteouts: false,
    opaqueXattr: "trusted.overlay.opaque",
    keepXattr: (name) => keepLayerXattr(name, root),
    ...within,
  });
}
