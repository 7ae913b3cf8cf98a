/**
 * Child-process fixture for the CLI tests: a process that owns containers. Starts one container
 * per argument, each a shell script run by the busybox rootfs (`name=script`), prints one JSON
 * line with their ids once they run (or, for scripts that end, once they exited), then waits to
 * be killed.
 *
 * Usage: owner.ts [--wait-exit] NAME[:VOLUME-PATH...]=SCRIPT...
 */
import { Container, Image } from "../../../src/index.js";
import { busyboxRootfs } from "../../fixtures/rootfs.js";

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const waitExit = args[0] === "--wait-exit";
  const started: { id: string; name: string }[] = [];
  for (const spec of waitExit ? args.slice(1) : args) {
    const eq = spec.indexOf("=");
    // "name:/path" declares /path a VOLUME of the image, so the container gets an anonymous volume there.
    const [name = "", ...volumes] = spec.slice(0, eq).split(":");
    const busybox = Image.fromRootfs(busyboxRootfs());
    const image = volumes.length > 0 ? busybox.volume(...volumes) : busybox;
    const running = await new Container(image, { name, command: ["sh", "-c", spec.slice(eq + 1)] }).start();
    if (waitExit) await running.wait();
    started.push({ id: running.id, name: running.name });
  }
  process.stdout.write(`${JSON.stringify(started)}\n`);
  setInterval(() => undefined, 1000);
}

void main();
