/**
 * Compose `secrets` and `configs`: the top-level declarations (`file`, `environment`, `content`)
 * and each service's references to them (short syntax `- name`, long syntax with `target`, `uid`,
 * `gid`, `mode`). A service gets each one as a read-only file, as compose does outside swarm:
 * secrets under /run/secrets, configs at their target.
 */
import path from "node:path";
import type { FileMountPlan, FileSourcePlan } from "../plan.js";
import { at, toInt, type NormalizeContext, type Segments } from "./context.js";
import { formatPath } from "./validate.js";

/** Which top-level key a service's entries refer to. */
export type FileKind = "secrets" | "configs";

/**
 * The top-level `secrets` or `configs`: each must name exactly one source, and an `environment`
 * variable must be set. A `file` need not exist yet: `up()` checks it before anything starts.
 *
 * @example
 * ```ts
 * fileSources(ctx, "secrets", { db_password: { file: "./db_password.txt" } }); // { db_password: { file: "/src/shop/db_password.txt" } }
 * ```
 */
export function fileSources(ctx: NormalizeContext, kind: FileKind, raw: Record<string, unknown> | undefined): Record<string, FileSourcePlan> {
  const out: Record<string, FileSourcePlan> = {};
  for (const [name, value] of Object.entries(raw ?? {})) {
    const segs = [kind, name];
    const v = (value ?? {}) as Record<string, unknown>;
    const given = ["file", "environment", "content"].filter((k) => v[k] !== undefined);
    if (v.external !== undefined || v.driver !== undefined || v.template_driver !== undefined) {
      const key = v.external !== undefined ? "external" : v.driver !== undefined ? "driver" : "template_driver";
      ctx.unsupported(at(segs, key), `${kind} from ${key} are swarm's; give the ${kind === "secrets" ? "secret" : "config"} a file, environment or content`);
      out[name] = {};
      continue;
    }
    if (given.length !== 1) {
      ctx.fail(segs, `${given.length === 0 ? "has no source" : `has ${given.length} sources (${given.join(", ")})`}: give exactly one of file, environment or content`);
    }
    if (typeof v.file === "string") {
      // Checked by up() for the services it starts, as compose does: such files are often
      // created by the user (and left out of the repository).
      out[name] = { file: path.resolve(ctx.projectDir, v.file) };
    } else if (typeof v.environment === "string") {
      const content = ctx.lookup(v.environment);
      if (content === undefined) ctx.fail(at(segs, "environment"), `the variable ${JSON.stringify(v.environment)} is not set; set it in the environment or the .env file`, "ERR_COMPOSE_VARIABLE");
      out[name] = { environment: v.environment, content };
    } else {
      out[name] = { content: String(v.content) };
    }
  }
  return out;
}

/**
 * A mode as compose files write it: a number is the mode itself (`0440` was read as octal by the
 * loader, as compose reads it), a string is octal ("0440", "440").
 */
function fileMode(ctx: NormalizeContext, segments: Segments, value: unknown): number {
  const text = String(value).trim();
  const mode = typeof value === "number" ? value : /^(0o?)?[0-7]{1,4}$/.test(text) ? parseInt(text.replace(/^0o?/, ""), 8) : NaN;
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) return ctx.fail(segments, `${JSON.stringify(value)} is not a file mode; write it in octal, such as 0440`);
  return mode;
}

/**
 * A service's `secrets:` or `configs:` entries as files to mount.
 *
 * @example
 * ```ts
 * serviceFiles(ctx, ["services", "db"], "secrets", ["db_password"], new Set(["db_password"]));
 * // [{ kind: "secret", source: "db_password", target: "/run/secrets/db_password", mode: 0o444, path: "services.db.secrets[0]" }]
 * ```
 */
export function serviceFiles(ctx: NormalizeContext, service: Segments, kind: FileKind, raw: unknown, declared: ReadonlySet<string>): FileMountPlan[] {
  const entries = (raw as unknown[] | undefined) ?? [];
  const singular = kind === "secrets" ? "secret" : "config";
  return entries.map((entry, i) => {
    const segs = at(service, kind, i);
    const long = typeof entry === "object" && entry !== null ? (entry as Record<string, unknown>) : undefined;
    const source = String(long ? long.source : entry);
    if (!declared.has(source)) {
      ctx.fail(long ? at(segs, "source") : segs, `refers to the undefined ${singular} ${JSON.stringify(source)}; declare it under the top-level ${kind} key`);
    }
    const given = long?.target === undefined ? source : String(long.target);
    const target = given.startsWith("/") ? given : kind === "secrets" ? `/run/secrets/${given}` : `/${given}`;
    if (target.split("/").includes("..")) ctx.fail(at(segs, "target"), `${JSON.stringify(given)} may not contain ".."`);
    const plan: FileMountPlan = { kind: singular, source, target, mode: 0o444, path: formatPath(segs) };
    if (long?.mode !== undefined) plan.mode = fileMode(ctx, at(segs, "mode"), long.mode);
    if (long?.uid !== undefined) plan.uid = toInt(ctx, at(segs, "uid"), long.uid);
    if (long?.gid !== undefined) plan.gid = toInt(ctx, at(segs, "gid"), long.gid);
    return plan;
  });
}
