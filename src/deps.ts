/**
 * The third-party packages that are costly to load (ajv, yaml, tar), loaded on
 * first use rather than at `import "bento"`: a test file that only starts containers never loads
 * the compose validator, and importing bento stays close to the cost of bare Node. They are
 * required synchronously (each ships CommonJS), so the sync API that uses them stays sync.
 */
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

type TarPackage = typeof import("tar");
type YamlPackage = typeof import("yaml");
type AjvPackage = typeof import("ajv");
type Ajv2020Package = typeof import("ajv/dist/2020.js");

let tar: TarPackage | undefined;
let yaml: YamlPackage | undefined;
let ajv: AjvPackage | undefined;
let ajv2020: Ajv2020Package | undefined;

/** The `tar` package. */
export function tarPackage(): TarPackage {
  return (tar ??= require("tar") as TarPackage);
}

/** The `yaml` package. */
export function yamlPackage(): YamlPackage {
  return (yaml ??= require("yaml") as YamlPackage);
}

/** The `ajv` package (draft-07 validator). */
export function ajvPackage(): AjvPackage {
  return (ajv ??= require("ajv") as AjvPackage);
}

/** ajv's 2020-12 validator. */
export function ajv2020Package(): Ajv2020Package {
  return (ajv2020 ??= require("ajv/dist/2020.js") as Ajv2020Package);
}
