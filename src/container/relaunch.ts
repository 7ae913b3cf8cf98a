/**
 * Starting an existing container again (restart, or start of a stopped one) waits for it the
 * way its first start did: the same wait strategy, within a fresh startupTimeoutMs.
 */
import { config } from "../config.js";
import { Deadline } from "../wait/deadline.js";
import { waitForStartup } from "../wait/startup.js";
import type { ContainerInstance } from "./instance.js";

/** Launches the container and runs its start wait, if it has one. */
export async function relaunch(instance: ContainerInstance): Promise<void> {
  await instance.launch();
  const wait = instance.startupWait;
  if (wait) await waitForStartup(instance, wait, Deadline.start(instance.options.startupTimeoutMs, config().timeoutScale));
}
