/**
 * Container names are unique on the machine, as Docker's are per daemon: each is a file under
 * <runtime>/names holding the owner's id, created with O_EXCL. A name whose container is gone
 * (its state dir was swept) is free again.
 */
import { existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { InvalidOptionError } from "../errors.js";

/** Claims `name` for container `id`; throws naming the holder when it is taken. */
export function claimName(runtimeDir: string, name: string, id: string): void {
  const dir = join(runtimeDir, "names");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, name);
  try {
    writeFileSync(file, id, { flag: "wx" });
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  const holder = readFileSync(file, "utf8");
  if (existsSync(join(runtimeDir, "containers", holder))) {
    throw new InvalidOptionError("name", `"${name}" is already used by container ${holder.slice(0, 12)}; remove that container or choose another name`);
  }
  writeFileSync(file, id);
}

/** Frees `name` if `id` holds it. */
export function releaseName(runtimeDir: string, name: string, id: string): void {
  const file = join(runtimeDir, "names", name);
  try {
    if (readFileSync(file, "utf8") === id) unlinkSync(file);
  } catch {
    // already free
  }
}
