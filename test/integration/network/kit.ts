/**
 * What the network tests share: starting busybox containers they track, and the check after each
 * test that nothing leaked, on the host's network included (`ip link`, `ip netns`).
 */
import { expect } from "vitest";
import { Container, Image, type ContainerOptions, type RunningContainer } from "../../../src/index.js";
import { hostNetwork } from "../../fixtures/host-program.js";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { leftovers } from "../leaks.js";

export function networkTestKit() {
  const made: string[] = [];
  const before = hostNetwork();
  return {
    made,
    /** Starts `sh -c script` in a busybox container, tracked for the leak check. */
    async start(script: string, options: ContainerOptions): Promise<RunningContainer> {
      const running = await new Container(Image.fromRootfs(busyboxRootfs()), { command: ["sh", "-c", script], ...options }).start();
      made.push(running.id);
      return running;
    },
    checkAfterEach(): void {
      expect(leftovers(made.splice(0))).toEqual([]);
      expect(hostNetwork()).toBe(before);
    },
  };
}
