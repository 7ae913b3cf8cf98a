/**
 * Shared by the module tests: one store for every module test file and run (the Debian images
 * take a minute of apt-get to build cold, and are then cached there), the Debian base image made
 * by the build tests' debootstrap helper, and the leak check. Import it right after
 * ../setup-env.js: it moves BENTO_HOME before anything reads the configuration.
 */
import { testRoot } from "../setup-env.js";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { config } from "../../../src/config.js";
import { Image } from "../../../src/image/image.js";
import { debianRootfs } from "../builder/debian-rootfs.js";
import { leftovers } from "../leaks.js";
import { onlyRootInContainers } from "../rootless.js";

// The runtime dir stays per file (setup-env.js), so the files' containers stay apart; only images
// and the build cache are shared. A BENTO_HOME given from outside is kept.
const sharedHome = join(process.env.BENTO_TEST_CACHE ?? "/var/cache/bento-test", "modules-home");
if (process.env.BENTO_HOME?.startsWith(testRoot)) process.env.BENTO_HOME = sharedHome;
if (config().home !== process.env.BENTO_HOME) throw new Error("kit.ts: the configuration was read before BENTO_HOME was set; import it right after ../setup-env.js");

/** The Debian bookworm base (debootstrap, cached in /var/cache/bento-test). */
export async function debianBase(): Promise<Image> {
  return Image.fromRootfs(await debianRootfs());
}

/**
 * Asserts that nothing is left of the containers `ids` nor of any build container of this file
 * (their state dirs are under this file's own runtime dir; the shared store's containers dir
 * also holds other files' running containers, so it is not scanned).
 */
export function expectNoLeaks(ids: readonly string[]): void {
  const all = new Set(ids);
  try {
    for (const name of readdirSync(join(config().runtimeDir, "containers"))) if (/^[0-9a-f]{64}$/.test(name)) all.add(name);
  } catch {
    // no container was created
  }
  expect(leftovers([...all])).toEqual([]);
}

/**
 * `describe` for the suites of a module server. PostgreSQL, MariaDB and Redis from Debian's
 * packages each run as a user of their own, which a rootless container holds only with a
 * subordinate id range. Without one, each suite is one test instead, named so, that asserts the
 * image build's error names the fix; the build (`image`) is tried once per file.
 */
export function serverSuites(server: string, image: () => Promise<Image>): (title: string, body: () => void) => void {
  if (!onlyRootInContainers) return (title, body) => describe(title, body);
  let built: Promise<unknown> | undefined;
  return (title) =>
    describe(title, () => {
      it(`is refused rootless without a subordinate id range (${server} runs as a user of its own): the build names the fix`, { timeout: 900_000 }, async () => {
        built ??= image().then((i) => i.build());
        await expect(built).rejects.toThrow(/rootless without a subordinate id range.*usermod --add-subuids/s);
      });
    });
}
