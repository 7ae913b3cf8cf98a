// The layering of ARCHITECTURE.md, checked by `npm run lint:layers` (dependency-cruiser).
// `layers` is that table, bottom to top; it must change together with the table.
// A file may import its own layer or one below it. Type-only imports count for direction (they
// still tie a lower layer to an upper one), so the TypeScript pre-compilation graph is read.
// Circles are counted only over imports that load a module at run time: type-only imports are
// erased by the compiler, and the typestate pair must name each other's types
// (RunningContainer.stop() returns a StoppedContainer, StoppedContainer.start() a RunningContainer).
// `import type`, `import { type A }` and `import("./x").A` in a type are all erased.

/** Each layer's folders (ending in "/") and files, relative to src/. */
const layers = [
  ["errors.ts", "config.ts", "debug.ts", "health-state.ts", "deps.ts"],
  ["native/"],
  ["store/"],
  ["host/"],
  ["image/"],
  ["runtime/"],
  ["wait/"],
  ["container/", "network/", "volume/"],
  ["builder/"],
  ["registry/"],
  ["stack/"],
  ["modules/", "testing/", "cli/", "index.ts"],
];

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** A path pattern for src/<entry>: a folder matches what is under it, a file only itself. */
const pattern = (entry) => (entry.endsWith("/") ? `^src/${escape(entry)}` : `^src/${escape(entry)}$`);

const upwardRules = layers.slice(0, -1).map((entries, index) => ({
  name: `layer-${index + 1}-imports-up`,
  severity: "error",
  comment: `Layer ${index + 1} (${entries.join(", ")}) may import only its own layer and those below it (ARCHITECTURE.md). Move the shared part down, or add a seam the upper layer installs.`,
  from: { path: entries.map(pattern) },
  to: { path: layers.slice(index + 1).flat().map(pattern) },
}));

module.exports = {
  forbidden: [
    ...upwardRules,
    {
      name: "not-in-a-layer",
      severity: "error",
      comment: "Every file under src/ belongs to a layer of ARCHITECTURE.md: add its folder to the table there and to `layers` in .dependency-cruiser.cjs.",
      from: { path: "^src/", pathNot: layers.flat().map(pattern) },
      to: {},
    },
    {
      name: "imports-a-file-in-no-layer",
      severity: "error",
      comment: "Every file under src/ belongs to a layer of ARCHITECTURE.md: add its folder to the table there and to `layers` in .dependency-cruiser.cjs.",
      from: {},
      to: { path: "^src/", pathNot: layers.flat().map(pattern) },
    },
    {
      name: "no-circular",
      severity: "error",
      comment: "Files that load each other at run time form a circle. Put the shared types in their own module (stack/stack-state.ts) or add a seam (image/build-engine.ts).",
      from: { path: "^src/" },
      to: { circular: true, viaOnly: { dependencyTypesNot: ["type-only", "type-import"] } },
    },
  ],
  options: {
    includeOnly: "^src/",
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js"] },
    progress: { type: "none" },
  },
};
