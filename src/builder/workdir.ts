/**
 * WORKDIR directories the image does not have yet. A WORKDIR step creates them, as BuildKit's
 * does: with its missing parents, mode 0755, owned by the USER in effect (so that `USER node`,
 * `WORKDIR /home/node/app`, `RUN npm install` can write there, and a container started from the
 * image finds the directory). That layer is the only one a config step can make; a WORKDIR whose
 * directory exists makes none.
 */
import { resolveUser } from "../runtime/user.js";
import type { ImageConfig } from "../image/config.js";
import type { LayeredView } from "./layered-view.js";
import type { Owner } from "./layer-builder.js";

/** The WORKDIR directories a step must create, top-down, and their owner. */
export interface MissingWorkdir {
  /** Image paths (resolved through the image's symlinks, no leading `/`), parents first. */
  dirs: string[];
  /** The USER's uid and gid (root when no USER is set). */
  owner: Owner;
}

/**
 * The WORKDIR directories missing from the image, or undefined when the working directory exists
 * (or is `/`).
 *
 * @example
 * ```ts
 * missingWorkdir(view, { ...config, WorkingDir: "/home/node/app", User: "node" }); // { dirs: ["home/node/app"], owner: { uid: 1000, gid: 1000 } }
 * ```
 */
export function missingWorkdir(view: LayeredView, config: ImageConfig): MissingWorkdir | undefined {
  const workdir = config.WorkingDir || "/";
  if (workdir === "/") return undefined;
  const resolved = view.resolve(workdir, true);
  const names = resolved.split("/").filter(Boolean);
  const dirs: string[] = [];
  for (let i = 1; i <= names.length; i++) {
    const rel = names.slice(0, i).join("/");
    if (view.lookup(rel) === undefined) dirs.push(rel);
  }
  if (dirs.length === 0) return undefined;
  const user = config.User === "" ? { uid: 0, gid: 0 } : resolveUser(config.User, view.layers);
  return { dirs, owner: { uid: user.uid, gid: user.gid } };
}
