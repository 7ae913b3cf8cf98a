/**
 * Child process of startup.test.ts: runs with BENTO_TIMEOUT_SCALE and BENTO_DEBUG set (bento reads
 * its environment once per process), makes a wait and a build time out, and prints one JSON line
 * per case plus the ids of the containers it created.
 */
import { setPlanResolver } from "../../../src/container/image-source.js";
import { ContainerInstance } from "../../../src/container/instance.js";
import { Container, Image, StartupError } from "../../../src/index.js";
import { Wait } from "../../../src/wait/wait.js";
import { WaitTimeoutError } from "../../../src/wait/wait-timeout-error.js";
import { busyboxRootfs } from "../../fixtures/rootfs.js";

const ids: string[] = [];
const create = ContainerInstance.create.bind(ContainerInstance);
ContainerInstance.create = async (...args) => {
  const instance = await create(...args);
  ids.push(instance.id);
  return instance;
};

async function failure(start: () => Promise<unknown>): Promise<Record<string, unknown>> {
  const t0 = Date.now();
  try {
    await start();
    return { error: "started" };
  } catch (error) {
    if (!(error instanceof StartupError)) throw error;
    const cause = error.cause instanceof WaitTimeoutError ? error.cause.timeoutMs : undefined;
    return { phase: error.phase, timedOut: error.timedOut, timeoutMs: cause, elapsedMs: Date.now() - t0, message: error.message };
  }
}

// A first start makes what later ones reuse (rootless, the user namespace), which on a loaded
// machine can take most of a second; the budget below is for the wait, so it comes after.
await (await (await new Container(Image.fromRootfs(busyboxRootfs()), { command: ["true"] }).start()).stop()).remove();
const wait = await failure(() => new Container(Image.fromRootfs(busyboxRootfs()), { command: ["sleep", "30"], wait: Wait.forLog("never"), startupTimeoutMs: 1000 }).start());
setPlanResolver(() => new Promise(() => undefined));
const build = await failure(() => new Container(new Image().from("docker.io/library/alpine:3.20").run("true"), { startupTimeoutMs: 200 }).start());
process.stdout.write(`${JSON.stringify({ wait, build, ids })}\n`);
process.exit(0);
