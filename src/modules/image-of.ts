/**
 * The image a module's container runs from, as an Image (modules add build steps over it).
 */
import type { ImageLike } from "../container/image-source.js";
import { Image } from "../image/image.js";

/** A reference, an Image, or anything with a plan, as an Image. */
export function imageOf(image: string | ImageLike): Image {
  if (image instanceof Image) return image;
  if (typeof image === "string") return Image.from(image);
  return Image.fromPlan(image.toPlan());
}
