/**
 * Validation of plans read from JSON (`Image.fromPlan`): every field's type, every `kind`, and the
 * rule that only ARG may come before the first FROM. Errors name the JSON path of the bad value.
 */
import { InvalidPlanError } from "./errors.js";
import { describe } from "./image-steps.js";
import { PLAN_VERSION, STEP_KINDS, type ImagePlan } from "./plan.js";

type Json = Record<string, unknown>;

/**
 * Checks that `value` is a valid plan and returns a deep copy typed as one. Throws
 * {@link InvalidPlanError} naming the first bad value.
 *
 * @example
 * ```ts
 * validatePlan(JSON.parse(text)); // an ImagePlan, or an InvalidPlanError such as "invalid plan at steps[2].kind: ..."
 * ```
 */
export function validatePlan(value: unknown, at = ""): ImagePlan {
  const plan = object(value, at || "plan");
  if (plan.version !== PLAN_VERSION) throw new InvalidPlanError(join(at, "version"), `expected ${PLAN_VERSION}, got ${JSON.stringify(plan.version)}; this bento reads version 1 plans`);
  const steps = array(plan.steps, join(at, "steps"));
  optional(plan, "escape", at, (v, p) => oneOf(v, p, ["\\", "`"]));
  optional(plan, "syntax", at, string);
  optional(plan, "context", at, string);
  optional(plan, "dockerfile", at, string);
  optional(plan, "buildArgs", at, stringRecord);
  let seenFrom = false;
  steps.forEach((raw, i) => {
    const p = join(at, `steps[${i}]`);
    const step = object(raw, p);
    const kind = step.kind;
    if (typeof kind !== "string" || !(STEP_KINDS as readonly string[]).includes(kind)) {
      throw new InvalidPlanError(`${p}.kind`, `unknown step kind ${JSON.stringify(kind)}; expected one of ${STEP_KINDS.join(", ")}`);
    }
    if (kind === "from") seenFrom = true;
    else if (kind !== "arg" && !seenFrom) throw new InvalidPlanError(`${p}.kind`, `a ${kind} step before the first from step; only arg steps may come before it`);
    validateStep(step, kind, p);
  });
  return structuredClone(value) as ImagePlan;
}

function validateStep(step: Json, kind: string, p: string): void {
  optional(step, "location", p, (v, q) => {
    const location = object(v, q);
    integer(location.line, `${q}.line`);
    integer(location.endLine, `${q}.endLine`);
  });
  switch (kind) {
    case "from":
      base(step.base, `${p}.base`);
      optional(step, "stage", p, string);
      optional(step, "platform", p, string);
      return;
    case "arg":
      array(step.args, `${p}.args`).forEach((a, i) => {
        const arg = object(a, `${p}.args[${i}]`);
        nonEmpty(arg.name, `${p}.args[${i}].name`);
        optional(arg, "default", `${p}.args[${i}]`, string);
      });
      return;
    case "env":
      keyValues(step.vars, `${p}.vars`);
      return;
    case "label":
      keyValues(step.labels, `${p}.labels`);
      return;
    case "workdir":
      nonEmpty(step.path, `${p}.path`);
      return;
    case "copy":
    case "add":
      strings(step.sources, `${p}.sources`);
      nonEmpty(step.dest, `${p}.dest`);
      for (const key of ["chown", "chmod", "checksum"]) optional(step, key, p, string);
      for (const key of ["link", "parents", "keepGitDir", "unpack"]) optional(step, key, p, boolean);
      optional(step, "exclude", p, strings);
      optional(step, "heredocs", p, heredocs);
      if (kind === "copy") optional(step, "from", p, copySource);
      return;
    case "run":
      command(step.command, `${p}.command`);
      optional(step, "env", p, keyValues);
      optional(step, "network", p, (v, q) => oneOf(v, q, ["default", "none", "host"]));
      optional(step, "security", p, (v, q) => oneOf(v, q, ["sandbox", "insecure"]));
      optional(step, "mounts", p, (v, q) =>
        array(v, q).forEach((m, i) => {
          const mount = object(m, `${q}[${i}]`);
          oneOf(mount.type, `${q}[${i}].type`, ["bind", "cache", "tmpfs", "secret", "ssh"]);
        }),
      );
      optional(step, "heredocs", p, heredocs);
      return;
    case "user":
      nonEmpty(step.user, `${p}.user`);
      return;
    case "expose":
      strings(step.ports, `${p}.ports`);
      return;
    case "volume":
      strings(step.paths, `${p}.paths`);
      return;
    case "healthcheck": {
      const test = strings(step.test, `${p}.test`);
      oneOf(test[0], `${p}.test[0]`, ["NONE", "CMD", "CMD-SHELL"]);
      for (const key of ["intervalMs", "timeoutMs", "startPeriodMs", "startIntervalMs", "retries"]) optional(step, key, p, nonNegative);
      return;
    }
    case "shell":
      if (strings(step.argv, `${p}.argv`).length === 0) throw new InvalidPlanError(`${p}.argv`, "SHELL needs at least one item");
      return;
    case "stopSignal":
      nonEmpty(step.signal, `${p}.signal`);
      return;
    case "onbuild":
      nonEmpty(step.instruction, `${p}.instruction`);
      return;
    case "entrypoint":
    case "cmd":
      command(step.command, `${p}.command`);
      return;
    case "maintainer":
      string(step.name, `${p}.name`);
      return;
  }
}

function base(value: unknown, p: string): void {
  const b = object(value, p);
  switch (b.type) {
    case "scratch":
      return;
    case "ref":
      nonEmpty(b.ref, `${p}.ref`);
      return;
    case "rootfs":
      if (typeof b.path !== "string" || !b.path.startsWith("/")) throw new InvalidPlanError(`${p}.path`, "expected an absolute host path");
      return;
    case "image":
      validatePlan(b.plan, `${p}.plan`);
      return;
    case "stage":
      nonEmpty(b.name, `${p}.name`);
      return;
    default:
      throw new InvalidPlanError(`${p}.type`, `unknown base type ${JSON.stringify(b.type)}; expected scratch, ref, rootfs, image or stage`);
  }
}

function copySource(value: unknown, p: string): void {
  const s = object(value, p);
  if (s.type === "scratch" || s.type === "rootfs") throw new InvalidPlanError(`${p}.type`, "copy --from takes a stage, a ref or an image");
  base(value, p);
}

function command(value: unknown, p: string): void {
  const c = object(value, p);
  if (c.form === "shell") string(c.text, `${p}.text`);
  else if (c.form === "exec") strings(c.argv, `${p}.argv`);
  else throw new InvalidPlanError(`${p}.form`, `expected "shell" or "exec", got ${JSON.stringify(c.form)}`);
}

function heredocs(value: unknown, p: string): void {
  array(value, p).forEach((h, i) => {
    const doc = object(h, `${p}[${i}]`);
    nonEmpty(doc.name, `${p}[${i}].name`);
    string(doc.content, `${p}[${i}].content`);
    boolean(doc.expand, `${p}[${i}].expand`);
    boolean(doc.chomp, `${p}[${i}].chomp`);
  });
}

function keyValues(value: unknown, p: string): void {
  array(value, p).forEach((kv, i) => {
    const pair = object(kv, `${p}[${i}]`);
    nonEmpty(pair.key, `${p}[${i}].key`);
    string(pair.value, `${p}[${i}].value`);
  });
}

function object(value: unknown, p: string): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new InvalidPlanError(p, `expected an object, got ${describe(value)}`);
  return value as Json;
}

function array(value: unknown, p: string): unknown[] {
  if (!Array.isArray(value)) throw new InvalidPlanError(p, `expected an array, got ${describe(value)}`);
  return value;
}

function strings(value: unknown, p: string): string[] {
  return array(value, p).map((v, i) => {
    string(v, `${p}[${i}]`);
    return v as string;
  });
}

function stringRecord(value: unknown, p: string): void {
  for (const [k, v] of Object.entries(object(value, p))) string(v, `${p}.${k}`);
}

function string(value: unknown, p: string): void {
  if (typeof value !== "string") throw new InvalidPlanError(p, `expected a string, got ${describe(value)}`);
}

function nonEmpty(value: unknown, p: string): void {
  string(value, p);
  if (value === "") throw new InvalidPlanError(p, "expected a non-empty string");
}

function boolean(value: unknown, p: string): void {
  if (typeof value !== "boolean") throw new InvalidPlanError(p, `expected true or false, got ${describe(value)}`);
}

function integer(value: unknown, p: string): void {
  if (!Number.isInteger(value)) throw new InvalidPlanError(p, `expected an integer, got ${describe(value)}`);
}

function nonNegative(value: unknown, p: string): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) throw new InvalidPlanError(p, `expected a number >= 0, got ${describe(value)}`);
}

function oneOf(value: unknown, p: string, allowed: readonly string[]): void {
  if (typeof value !== "string" || !allowed.includes(value)) throw new InvalidPlanError(p, `expected one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}, got ${describe(value)}`);
}

function optional(holder: Json, key: string, p: string, check: (value: unknown, path: string) => void): void {
  if (holder[key] !== undefined) check(holder[key], join(p, key));
}

function join(p: string, key: string): string {
  return p === "" ? key : `${p}.${key}`;
}
