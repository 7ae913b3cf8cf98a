/**
 * `Image.fromArchive(path)`: imports a `docker save` tar or an OCI archive (or layout directory)
 * into the store and names the image by id, so the Image stays exactly that image even when a tag
 * moves later.
 */
import { InvalidOptionError } from "../errors.js";
import { formatReference, parseTagReference } from "../store/reference.js";
import type { FromArchiveOptions } from "../image/build-engine.js";
import { ImageStore } from "../store/image-store.js";
import { imageTransfer } from "./image-transfer.js";

/**
 * Imports the archive and returns the reference (`sha256:<id>`) of the chosen image.
 *
 * @example
 * ```ts
 * const ref = await importArchiveImage("/tmp/alpine.tar"); // "sha256:4f1c..."
 * ```
 */
export async function importArchiveImage(path: string, options: FromArchiveOptions = {}): Promise<string> {
  if (typeof path !== "string" || path === "") throw new InvalidOptionError("fromArchive.path", "expected the path of a docker save or OCI archive");
  if (options.store !== undefined && !(options.store instanceof ImageStore)) throw new InvalidOptionError("fromArchive.store", "expected a Store");
  const store = options.store ?? ImageStore.default();
  const { images } = await imageTransfer("fromArchive").importArchive(store, path);
  if (images.length === 0) throw new InvalidOptionError("fromArchive.path", `"${path}" holds no image`);
  if (options.tag === undefined) return (images[0] as { id: string }).id;
  const wanted = formatReference(parseTagReference(options.tag));
  const found = images.find((i) => i.tags.some((t) => formatReference(parseTagReference(t)) === wanted));
  if (found === undefined) {
    throw new InvalidOptionError("fromArchive.tag", `no image in "${path}" is tagged ${JSON.stringify(options.tag)} (tags: ${images.flatMap((i) => i.tags).join(", ") || "none"})`);
  }
  return found.id;
}
