/**
 * Merging compose documents as `docker compose -f a.yaml -f b.yaml` does, and a service over the
 * one it `extends`: maps merge key by key, the later value wins for scalars and for `command`,
 * `entrypoint` and a healthcheck's `test`; list-or-map keys (`environment`, `labels`,
 * `extra_hosts`, `sysctls`, `depends_on`, `networks`...) merge as maps; mounts (`volumes`,
 * `devices`, `secrets`, `configs`) merge by their target; other lists (`ports`, `dns`, `cap_add`,
 * `env_file`...) are concatenated without duplicates. Rules read in compose-go's `override`
 * package and the compose specification's merge page.
 */

type Doc = Record<string, unknown>;

/** Service keys written as a list of "KEY=VALUE" (or "KEY:VALUE") or as a map, merged as maps. */
const mapLike: Record<string, "=" | ":"> = {
  environment: "=",
  labels: "=",
  annotations: "=",
  sysctls: "=",
  extra_hosts: "=",
  depends_on: ":",
  networks: ":",
  ulimits: ":",
  storage_opt: "=",
};
/** Service keys whose lists merge by each entry's target. */
const byTarget = new Set(["volumes", "devices", "secrets", "configs"]);
/** Keys whose value is replaced as a whole. */
const replaced = new Set(["command", "entrypoint", "test"]);

function isMap(value: unknown): value is Doc {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A list-or-map value as a map (`["A=1", "B"]` -> `{ A: "1", B: null }`; `depends_on: [db]` -> `{ db: { condition: service_started } }`). */
function asMap(key: string, value: unknown): Doc {
  if (isMap(value)) return value;
  if (!Array.isArray(value)) return {};
  const out: Doc = {};
  for (const entry of value) {
    const text = String(entry);
    if (key === "depends_on") out[text] = { condition: "service_started" };
    else if (key === "networks") out[text] = null;
    else if (key === "extra_hosts") {
      // "host:ip" or "host=ip"; an IPv6 address holds colons, so split at the first separator.
      const at = /[=:]/.exec(text)?.index ?? -1;
      if (at < 0) out[text] = null;
      else out[text.slice(0, at)] = text.slice(at + 1);
    } else {
      const at = text.indexOf("=");
      if (at < 0) out[text] = null;
      else out[text.slice(0, at)] = text.slice(at + 1);
    }
  }
  return out;
}

/** The target a mount entry is merged by: the container path of a volume or device, the target (or source) of a secret or config. */
function targetOf(key: string, entry: unknown): string {
  if (isMap(entry)) return String(entry.target ?? entry.source ?? JSON.stringify(entry));
  const text = String(entry);
  if (key === "secrets" || key === "configs") return text;
  const parts = text.split(":");
  if (key === "devices") return parts[1] ?? parts[0]!;
  return parts.length === 1 ? parts[0]! : parts[1]!;
}

function mergeLists(key: string, base: unknown[], over: unknown[]): unknown[] {
  if (byTarget.has(key)) {
    const merged = new Map<string, unknown>();
    for (const entry of [...base, ...over]) {
      // A later entry for the same target takes the earlier one's place.
      merged.set(targetOf(key, entry), entry);
    }
    return [...merged.values()];
  }
  const seen = new Set<string>();
  return [...base, ...over].filter((e) => {
    const id = JSON.stringify(e);
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

/** Merges a value of `key` from a later document over an earlier one. */
function mergeValue(key: string, base: unknown, over: unknown, inService: boolean): unknown {
  if (over === undefined) return base;
  if (base === undefined || over === null || replaced.has(key)) return over;
  if (inService && key in mapLike && (Array.isArray(base) || Array.isArray(over))) return mergeMaps(asMap(key, base), asMap(key, over), false);
  if (inService && key === "build" && (typeof base === "string" || typeof over === "string")) {
    return mergeMaps(typeof base === "string" ? { context: base } : (base as Doc), typeof over === "string" ? { context: over } : (over as Doc), true);
  }
  if (Array.isArray(base) && Array.isArray(over)) return mergeLists(key, base, over);
  if (isMap(base) && isMap(over)) return mergeMaps(base, over, inService);
  return over;
}

function mergeMaps(base: Doc, over: Doc, inService: boolean): Doc {
  const out: Doc = { ...base };
  for (const [key, value] of Object.entries(over)) out[key] = mergeValue(key, base[key], value, inService);
  return out;
}

/**
 * A service definition merged over another (a later file's over an earlier one's, or a service
 * over the one it extends).
 *
 * @example
 * ```ts
 * mergeService({ image: "a", environment: ["A=1"] }, { environment: { B: "2" } }); // { image: "a", environment: { A: "1", B: "2" } }
 * ```
 */
export function mergeService(base: Doc, over: Doc): Doc {
  return mergeMaps(base, over, true);
}

/**
 * A compose document merged over another, as a later `-f` file over an earlier one.
 *
 * @example
 * ```ts
 * mergeDocuments({ services: { web: { image: "a" } } }, { services: { web: { ports: ["80"] } } });
 * ```
 */
export function mergeDocuments(base: Doc, over: Doc): Doc {
  const out: Doc = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (key === "services" && isMap(base.services) && isMap(value)) {
      const services: Doc = { ...base.services };
      for (const [name, service] of Object.entries(value)) {
        const earlier = services[name];
        services[name] = isMap(earlier) && isMap(service) ? mergeService(earlier, service) : service;
      }
      out.services = services;
    } else {
      out[key] = mergeValue(key, base[key], value, false);
    }
  }
  return out;
}
