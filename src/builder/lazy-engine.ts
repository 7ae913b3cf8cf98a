/**
 * Installs the build engine without loading it: `import "bento"` registers these stand-ins, and
 * the engine (`./index.js`, about a seventh of the package's code, with the registry client and
 * the layer writer behind it) loads on the first build, commit or archive import. When it loads,
 * it installs itself over these, so later calls go to it directly.
 */
import { setPlanResolver } from "../container/image-source.js";
import { installBuildEngine } from "../image/build-engine.js";

const loadEngine = (): Promise<typeof import("./index.js")> => import("./index.js");

installBuildEngine({
  build: async (plan, options) => (await loadEngine()).buildPlan(plan, options),
  importArchive: async (path, options) => (await loadEngine()).importArchiveImage(path, options),
  commit: async (upperDir, parent, options) => (await loadEngine()).commitContainer(upperDir, parent, options),
});
setPlanResolver(async (plan) => (await loadEngine()).resolveBuiltImage(plan));
