/**
 * `RUN --mount=...` values: BuildKit's CSV form (`type=cache,target=/root/.cache,sharing=locked`) to
 * a {@link RunMount} and back.
 */
import type { RunMount } from "./plan.js";

const mountTypes = new Set<RunMount["type"]>(["bind", "cache", "tmpfs", "secret", "ssh"]);
const sharingModes = new Set(["shared", "private", "locked"]);

/**
 * Parses a `--mount` value. Throws an `Error` whose message says which field is wrong; the caller
 * adds the Dockerfile location.
 *
 * @example
 * ```ts
 * parseRunMount("type=cache,target=/root/.cache,id=npm"); // { type: "cache", target: "/root/.cache", id: "npm" }
 * ```
 */
export function parseRunMount(value: string): RunMount {
  const mount: RunMount = { type: "bind" };
  for (const field of splitCsv(value)) {
    const eq = field.indexOf("=");
    const key = (eq < 0 ? field : field.slice(0, eq)).trim().toLowerCase();
    const val = eq < 0 ? undefined : field.slice(eq + 1);
    const bool = (): boolean => {
      if (val === undefined || val === "" || val === "true") return true;
      if (val === "false") return false;
      throw new Error(`--mount ${key}: expected true or false, got ${JSON.stringify(val)}`);
    };
    const text = (): string => {
      if (val === undefined) throw new Error(`--mount ${key}: expected ${key}=<value>`);
      return val;
    };
    const int = (): number => {
      const n = Number(text());
      if (!Number.isInteger(n) || n < 0) throw new Error(`--mount ${key}: expected a non-negative integer, got ${JSON.stringify(val)}`);
      return n;
    };
    switch (key) {
      case "type": {
        const type = text().toLowerCase() as RunMount["type"];
        if (!mountTypes.has(type)) throw new Error(`--mount type: unknown mount type ${JSON.stringify(val)} (expected bind, cache, tmpfs, secret or ssh)`);
        mount.type = type;
        break;
      }
      case "target":
      case "dst":
      case "destination":
        mount.target = text();
        break;
      case "source":
      case "src":
        mount.source = text();
        break;
      case "from":
        mount.from = text();
        break;
      case "readonly":
      case "ro":
        mount.readonly = bool();
        break;
      case "readwrite":
      case "rw":
        mount.readonly = !bool();
        break;
      case "id":
        mount.id = text();
        break;
      case "sharing": {
        const sharing = text().toLowerCase();
        if (!sharingModes.has(sharing)) throw new Error(`--mount sharing: expected shared, private or locked, got ${JSON.stringify(val)}`);
        mount.sharing = sharing as RunMount["sharing"];
        break;
      }
      case "mode":
        if (!/^[0-7]+$/.test(text())) throw new Error(`--mount mode: expected an octal mode such as 0700, got ${JSON.stringify(val)}`);
        mount.mode = text();
        break;
      case "uid":
        mount.uid = int();
        break;
      case "gid":
        mount.gid = int();
        break;
      case "required":
        mount.required = bool();
        break;
      case "size":
        mount.sizeBytes = parseSizeBytes(text());
        break;
      case "env":
        mount.env = text();
        break;
      default:
        throw new Error(`--mount: unknown option ${JSON.stringify(key)}`);
    }
  }
  if ((mount.type === "bind" || mount.type === "cache" || mount.type === "tmpfs") && mount.target === undefined) {
    throw new Error(`--mount type=${mount.type}: a target is required (target=/path)`);
  }
  return mount;
}

/**
 * Formats a mount as BuildKit's CSV form; {@link parseRunMount} reads it back to an equal object.
 *
 * @example
 * ```ts
 * formatRunMount({ type: "tmpfs", target: "/tmp", sizeBytes: 1048576 }); // "type=tmpfs,target=/tmp,size=1048576"
 * ```
 */
export function formatRunMount(mount: RunMount): string {
  const fields: string[] = [`type=${mount.type}`];
  const add = (key: string, value: string | number | boolean | undefined): void => {
    if (value !== undefined) fields.push(`${key}=${value}`);
  };
  add("target", mount.target);
  add("source", mount.source);
  add("from", mount.from);
  add("readonly", mount.readonly);
  add("id", mount.id);
  add("sharing", mount.sharing);
  add("mode", mount.mode);
  add("uid", mount.uid);
  add("gid", mount.gid);
  add("required", mount.required);
  add("size", mount.sizeBytes);
  add("env", mount.env);
  return fields.map(csvField).join(",");
}

// encoding/csv rules, as BuildKit reads mount specs: a field with a comma, quote or newline is
// quoted, with quotes doubled.
function csvField(field: string): string {
  return /[",\r\n]/.test(field) || field.trim() !== field ? `"${field.replace(/"/g, '""')}"` : field;
}

function splitCsv(text: string): string[] {
  const fields: string[] = [];
  let i = 0;
  while (i <= text.length) {
    let field = "";
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw new Error(`--mount: unterminated quote in ${JSON.stringify(text)}`);
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += text[i];
        i++;
      }
      if (i < text.length && text[i] !== ",") throw new Error(`--mount: unexpected text after a quoted field in ${JSON.stringify(text)}`);
    } else {
      const comma = text.indexOf(",", i);
      const end = comma < 0 ? text.length : comma;
      field = text.slice(i, end);
      i = end;
    }
    if (field !== "") fields.push(field);
    i++;
  }
  return fields;
}

// go-units RAMInBytes: a number with an optional binary unit (k, m, g, t, p; b and i ignored).
function parseSizeBytes(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b?)$/i.exec(text.trim());
  if (match === null) throw new Error(`--mount size: expected a size such as 64m, got ${JSON.stringify(text)}`);
  const power = " kmgtp".indexOf((match[2] as string).toLowerCase() || " ");
  return Math.round(Number(match[1]) * 1024 ** power);
}
