/**
 * A child process for interrupted.test.ts: builds {@link interruptedImage}, whose last RUN never
 * ends, and prints each progress event as a JSON line, so the parent can interrupt it mid-step.
 *
 *   tsx interrupted-build-child.ts <rootfs> <name>
 */
import "../../../src/builder/index.js";
import "../../../src/registry/store.js";
import { Image } from "../../../src/image/image.js";

/** Two quick RUN steps (their own for each `name`), then `last` (the child's never ends). */
export function interruptedImage(rootfs: string, name: string, last: string): Image {
  return Image.fromRootfs(rootfs).run(`echo ${name} > /one`).run("echo two > /two").run(last);
}

const [rootfs, name] = process.argv.slice(2);
if (rootfs !== undefined && name !== undefined) {
  await interruptedImage(rootfs, name, "echo started; sleep 1000").build({
    onProgress: (event) => process.stdout.write(`${JSON.stringify(event)}\n`),
  });
}
