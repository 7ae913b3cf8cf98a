/**
 * Shared by the wait integration tests: start containers from the busybox rootfs, learn the ids
 * of every container a start created (also those a failed start removed), and check that none
 * left anything behind.
 */
import { vi, expect } from "vitest";
import { Container, Image, StartupError, type ContainerOptions, type RunningContainer } from "../../../src/index.js";
import { ContainerInstance } from "../../../src/container/instance.js";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { leftovers } from "../leaks.js";

const created = vi.spyOn(ContainerInstance, "create");

/** Ids of every container created since the last call, started or not. */
export function createdIds(): string[] {
  const ids = created.mock.settledResults.flatMap((r) => (r.type === "fulfilled" ? [(r.value as ContainerInstance).id] : []));
  created.mockClear();
  return ids;
}

/** Asserts that the containers created since the last check left nothing: processes, mounts, cgroups, dirs. */
export function expectNoLeftovers(): void {
  expect(leftovers(createdIds())).toEqual([]);
}

export const image = () => Image.fromRootfs(busyboxRootfs());
export const sh = (script: string) => ["sh", "-c", script];

/** Starts a busybox container running a shell script. */
export function start(script: string, options: ContainerOptions = {}): Promise<RunningContainer> {
  return new Container(image(), { command: sh(script), ...options }).start();
}

/** The StartupError a start fails with (fails the test when it starts). */
export async function startFails(script: string, options: ContainerOptions = {}): Promise<StartupError> {
  const error: unknown = await start(script, options).then(
    async (running) => {
      await running[Symbol.asyncDispose]();
      return new Error("the start succeeded");
    },
    (e: unknown) => e,
  );
  if (!(error instanceof StartupError)) throw error;
  return error;
}

/** Stops and removes a running container. */
export async function dispose(running: RunningContainer): Promise<void> {
  await running[Symbol.asyncDispose]();
}
