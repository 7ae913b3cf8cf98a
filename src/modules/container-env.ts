/**
 * What the modules read of a running container to tell clients how to connect: its environment
 * (the official images' variables) and the name other containers reach it by.
 */
import type { RunningContainer } from "../container/running-container.js";

/**
 * The container's environment as a map (the first `=` splits name and value).
 *
 * @example
 * ```ts
 * (await containerEnv(running)).get("MARIADB_DATABASE"); // "test"
 * ```
 */
export async function containerEnv(running: RunningContainer): Promise<Map<string, string>> {
  return new Map(
    (await running.inspect()).process.env.map((kv) => {
      const i = kv.indexOf("=");
      return [kv.slice(0, i), kv.slice(i + 1)] as const;
    }),
  );
}

/**
 * The host name other containers on the same bento Network reach this one by: its name, which
 * the network's hosts files resolve (as its aliases).
 *
 * @example
 * ```ts
 * `mysql://test:test@${networkHost(db)}:3306/test`;
 * ```
 */
export function networkHost(running: RunningContainer): string {
  return running.name;
}
