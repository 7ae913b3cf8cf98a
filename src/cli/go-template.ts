/**
 * A small subset of Go's text/template, for `--format` as docker reads it: field paths
 * (`{{.State.Status}}`), variables (`$`, `$k`), `{{json .Config}}`, `{{index .Config.Labels "k"}}`,
 * pipelines (`{{.Name | upper}}`), parenthesized terms (`{{(index $v 0).HostPort}}`),
 * `{{range}}`, `{{if}}`, `{{with}}` with `{{else}}`, and `{{-`/`-}}` trimming. Values print as Go's
 * fmt `%v` prints the data docker's JSON decodes to: maps as `map[k:v]` (keys sorted), slices as
 * `[a b]`, null as `<nil>`, a missing key as `<no value>`.
 */

/** A template that does not parse or cannot run on the data; the message names the place. */
export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    Object.defineProperty(this, "name", { value: "TemplateError", enumerable: false });
  }
}

type Token =
  | { kind: "field"; path: string[] }
  | { kind: "var"; name: string; path: string[] }
  | { kind: "string"; value: string }
  | { kind: "number"; value: number }
  | { kind: "ident"; name: string }
  | { kind: "punct"; value: "(" | ")" | "|" | ":=" | "," };

type Term = { kind: "field"; path: string[] } | { kind: "var"; name: string; path: string[] } | { kind: "literal"; value: unknown } | { kind: "paren"; pipeline: Pipeline; path: string[] };
type Command = { fn?: string; args: Term[] };
type Pipeline = Command[];

type Node =
  | { kind: "text"; text: string }
  | { kind: "action"; pipeline: Pipeline }
  | { kind: "range"; vars: string[]; pipeline: Pipeline; body: Node[]; otherwise: Node[] }
  | { kind: "if" | "with"; pipeline: Pipeline; body: Node[]; otherwise: Node[] };

const missing = Symbol("no value");
const fieldPath = /^(?:\.[A-Za-z_][A-Za-z0-9_]*)+/;

function tokenize(action: string, where: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const pathAt = (at: number): { path: string[]; end: number } => {
    const m = fieldPath.exec(action.slice(at));
    return m ? { path: m[0].slice(1).split("."), end: at + m[0].length } : { path: [], end: at };
  };
  while (i < action.length) {
    const c = action[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === ".") {
      const { path, end } = pathAt(i);
      tokens.push({ kind: "field", path });
      i = end === i ? i + 1 : end;
    } else if (c === "$") {
      const name = /^\$[A-Za-z0-9_]*/.exec(action.slice(i))![0];
      const { path, end } = pathAt(i + name.length);
      tokens.push({ kind: "var", name, path });
      i = end;
    } else if (c === '"') {
      const m = /^"(?:[^"\\]|\\.)*"/.exec(action.slice(i));
      if (!m) throw new TemplateError(`${where}: unterminated string`);
      tokens.push({ kind: "string", value: JSON.parse(m[0]) as string });
      i += m[0].length;
    } else if (c === "`") {
      const end = action.indexOf("`", i + 1);
      if (end < 0) throw new TemplateError(`${where}: unterminated raw string`);
      tokens.push({ kind: "string", value: action.slice(i + 1, end) });
      i = end + 1;
    } else if (/[-0-9]/.test(c)) {
      const m = /^-?\d+(?:\.\d+)?/.exec(action.slice(i));
      if (!m) throw new TemplateError(`${where}: unexpected "${c}"`);
      tokens.push({ kind: "number", value: Number(m[0]) });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(action.slice(i))![0];
      tokens.push({ kind: "ident", name });
      i += name.length;
    } else if (action.startsWith(":=", i)) {
      tokens.push({ kind: "punct", value: ":=" });
      i += 2;
    } else if ("()|,".includes(c)) {
      tokens.push({ kind: "punct", value: c as "(" | ")" | "|" | "," });
      i++;
    } else {
      throw new TemplateError(`${where}: unexpected "${c}"`);
    }
  }
  return tokens;
}

/** Parses the tokens of one action into a pipeline, reading from `at`; returns where it stopped. */
function parsePipeline(tokens: Token[], at: number, where: string, closing?: ")"): { pipeline: Pipeline; next: number } {
  const pipeline: Pipeline = [];
  let command: Command = { args: [] };
  let i = at;
  for (; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind === "punct" && t.value === ")" && closing === ")") break;
    if (t.kind === "punct" && t.value === "|") {
      if (command.fn === undefined && command.args.length === 0) throw new TemplateError(`${where}: missing command before "|"`);
      pipeline.push(command);
      command = { args: [] };
      continue;
    }
    if (t.kind === "punct" && t.value === "(") {
      const inner = parsePipeline(tokens, i + 1, where, ")");
      if (tokens[inner.next]?.kind !== "punct") throw new TemplateError(`${where}: unclosed "("`);
      i = inner.next;
      const after = tokens[i + 1];
      let path: string[] = [];
      if (after?.kind === "field" && after.path.length > 0) {
        path = after.path;
        i++;
      }
      command.args.push({ kind: "paren", pipeline: inner.pipeline, path });
      continue;
    }
    if (t.kind === "ident") {
      if (t.name === "true" || t.name === "false") command.args.push({ kind: "literal", value: t.name === "true" });
      else if (t.name === "nil") command.args.push({ kind: "literal", value: null });
      else if (command.fn === undefined && command.args.length === 0) command.fn = t.name;
      else throw new TemplateError(`${where}: function "${t.name}" must come first in its command; wrap it in ( )`);
      continue;
    }
    if (t.kind === "field") command.args.push({ kind: "field", path: t.path });
    else if (t.kind === "var") command.args.push({ kind: "var", name: t.name, path: t.path });
    else if (t.kind === "string" || t.kind === "number") command.args.push({ kind: "literal", value: t.value });
    else throw new TemplateError(`${where}: unexpected "${t.value}"`);
  }
  if (closing === ")" && i >= tokens.length) throw new TemplateError(`${where}: unclosed "("`);
  if (command.fn === undefined && command.args.length === 0) throw new TemplateError(`${where}: empty command`);
  pipeline.push(command);
  for (const c of pipeline) {
    if (c.fn === undefined && c.args.length > 1) throw new TemplateError(`${where}: ${c.args.length} values in one command; only a function takes arguments`);
    if (c.fn !== undefined && !(c.fn in functions)) throw new TemplateError(`${where}: function "${c.fn}" not defined (bento knows ${Object.keys(functions).join(", ")})`);
  }
  return { pipeline, next: i };
}

/**
 * Parses a template. Throws {@link TemplateError} naming the action that does not parse.
 *
 * @example
 * ```ts
 * const render = parseTemplate("{{.State.Status}}");
 * render({ State: { Status: "running" } }); // "running"
 * ```
 */
export function parseTemplate(source: string): (data: unknown) => string {
  const nodes: Node[] = [];
  const stack: { node: Extract<Node, { body: Node[] }>; inElse: boolean; outer: Node[] }[] = [];
  let current = nodes;
  let rest = source;
  let trimNext = false;
  while (rest.length > 0) {
    const open = rest.indexOf("{{");
    let text = open < 0 ? rest : rest.slice(0, open);
    if (trimNext) text = text.replace(/^\s+/, "");
    trimNext = false;
    if (open >= 0 && rest.startsWith("{{- ", open)) text = text.replace(/\s+$/, "");
    if (text.length > 0) current.push({ kind: "text", text });
    if (open < 0) break;
    const close = rest.indexOf("}}", open + 2);
    if (close < 0) throw new TemplateError(`template: unclosed action "${rest.slice(open, open + 20)}"`);
    let body = rest.slice(open + 2, close);
    if (body.startsWith("- ")) body = body.slice(2);
    if (body.endsWith(" -")) {
      body = body.slice(0, -2);
      trimNext = true;
    }
    rest = rest.slice(close + 2);
    const where = `template: {{${body.trim()}}}`;
    const trimmed = body.trim();
    if (trimmed.startsWith("/*")) continue;
    const tokens = tokenize(trimmed, where);
    const head = tokens[0];
    const keyword = head?.kind === "ident" ? head.name : undefined;
    if (keyword === "end" || keyword === "else") {
      const open = stack.at(-1);
      if (open === undefined) throw new TemplateError(`${where}: unexpected ${keyword}`);
      if (keyword === "else") {
        if (open.inElse) throw new TemplateError(`${where}: a second else`);
        open.inElse = true;
        current = open.node.otherwise;
        continue;
      }
      stack.pop();
      current = open.outer;
      continue;
    }
    if (keyword === "range" || keyword === "if" || keyword === "with") {
      let at = 1;
      const vars: string[] = [];
      if (keyword === "range" && tokens[1]?.kind === "var") {
        const declare = tokens.findIndex((t) => t.kind === "punct" && t.value === ":=");
        if (declare > 0) {
          for (const t of tokens.slice(1, declare)) if (t.kind === "var") vars.push(t.name);
          at = declare + 1;
        }
      }
      const { pipeline } = parsePipeline(tokens, at, where);
      const node: Extract<Node, { body: Node[] }> = keyword === "range" ? { kind: "range", vars, pipeline, body: [], otherwise: [] } : { kind: keyword, pipeline, body: [], otherwise: [] };
      current.push(node);
      stack.push({ node, inElse: false, outer: current });
      current = node.body;
      continue;
    }
    if (tokens.length === 0) throw new TemplateError(`${where}: missing value`);
    current.push({ kind: "action", pipeline: parsePipeline(tokens, 0, where).pipeline });
  }
  if (stack.length > 0) throw new TemplateError(`template: ${stack.at(-1)!.node.kind} has no {{end}}`);
  return (data) => {
    const out: string[] = [];
    run(nodes, data, new Map([["$", data]]), out);
    return out.join("");
  };
}

function lookup(value: unknown, path: readonly string[]): unknown {
  let v: unknown = value;
  for (const key of path) {
    if (v === missing || v === null || v === undefined) return missing;
    if (typeof v !== "object" || Array.isArray(v)) throw new TemplateError(`template: can't read field ${key} of ${typeName(v)}`);
    v = Object.hasOwn(v, key) ? (v as Record<string, unknown>)[key] : missing;
  }
  return v;
}

function typeName(v: unknown): string {
  if (Array.isArray(v)) return "a list";
  if (v === null) return "nil";
  return `a ${typeof v}`;
}

function evalTerm(term: Term, dot: unknown, vars: Map<string, unknown>): unknown {
  switch (term.kind) {
    case "field":
      return lookup(dot, term.path);
    case "var":
      if (!vars.has(term.name)) throw new TemplateError(`template: undefined variable "${term.name}"`);
      return lookup(vars.get(term.name), term.path);
    case "literal":
      return term.value;
    case "paren":
      return lookup(evalPipeline(term.pipeline, dot, vars), term.path);
  }
}

function evalPipeline(pipeline: Pipeline, dot: unknown, vars: Map<string, unknown>): unknown {
  let result: unknown = missing;
  pipeline.forEach((command, i) => {
    const args = command.args.map((a) => evalTerm(a, dot, vars));
    if (i > 0) args.push(result);
    result = command.fn === undefined ? args[0] : functions[command.fn]!(...args);
  });
  return result;
}

function truthy(v: unknown): boolean {
  if (v === missing || v === null || v === undefined || v === false || v === 0 || v === "") return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === "object") return Object.keys(v).length > 0;
  return true;
}

function run(nodes: readonly Node[], dot: unknown, vars: Map<string, unknown>, out: string[]): void {
  for (const node of nodes) {
    if (node.kind === "text") out.push(node.text);
    else if (node.kind === "action") out.push(formatValue(evalPipeline(node.pipeline, dot, vars)));
    else if (node.kind === "if" || node.kind === "with") {
      const v = evalPipeline(node.pipeline, dot, vars);
      if (truthy(v)) run(node.body, node.kind === "with" ? v : dot, vars, out);
      else run(node.otherwise, dot, vars, out);
    } else if (node.kind === "range") {
      const v = evalPipeline(node.pipeline, dot, vars);
      const entries: [unknown, unknown][] = Array.isArray(v)
        ? v.map((e, i) => [i, e])
        : v !== null && typeof v === "object"
          ? Object.keys(v)
              .sort()
              .map((k) => [k, (v as Record<string, unknown>)[k]])
          : v === missing || v === null
            ? []
            : (() => {
                throw new TemplateError(`template: range can't iterate over ${formatValue(v)}`);
              })();
      if (entries.length === 0) run(node.otherwise, dot, vars, out);
      for (const [key, value] of entries) {
        const scope = new Map(vars);
        if (node.vars.length === 1) scope.set(node.vars[0]!, value);
        if (node.vars.length === 2) {
          scope.set(node.vars[0]!, key);
          scope.set(node.vars[1]!, value);
        }
        run(node.body, value, scope, out);
      }
    }
  }
}

/**
 * A value as Go's `fmt` prints it with `%v`, for the data a JSON document decodes to.
 *
 * @example
 * ```ts
 * formatValue({ "80/tcp": [{ HostPort: "8080" }] }); // "map[80/tcp:[map[HostPort:8080]]]"
 * ```
 */
export function formatValue(v: unknown): string {
  if (v === missing || v === undefined) return "<no value>";
  if (v === null) return "<nil>";
  if (Array.isArray(v)) return `[${v.map(formatValue).join(" ")}]`;
  if (typeof v === "object")
    return `map[${Object.keys(v)
      .sort()
      .map((k) => `${k}:${formatValue((v as Record<string, unknown>)[k])}`)
      .join(" ")}]`;
  return String(v);
}

function toText(v: unknown): string {
  return typeof v === "string" ? v : formatValue(v);
}

const functions: Record<string, (...args: unknown[]) => unknown> = {
  json: (v) => JSON.stringify(v === missing ? null : v) ?? "null",
  index: (v, ...keys) => {
    let at = v;
    for (const key of keys) {
      if (at === missing || at === null) return missing;
      if (Array.isArray(at)) {
        if (typeof key !== "number" || key < 0 || key >= at.length) throw new TemplateError(`template: index ${formatValue(key)} out of range (the list has ${at.length})`);
        at = at[key];
      } else if (typeof at === "object") {
        // A missing map key gives the zero value, as index on a Go map[string]string does.
        at = Object.hasOwn(at as object, String(key)) ? (at as Record<string, unknown>)[String(key)] : "";
      } else {
        throw new TemplateError(`template: can't index ${typeName(at)}`);
      }
    }
    return at;
  },
  len: (v) => (Array.isArray(v) ? v.length : typeof v === "string" ? v.length : v !== null && typeof v === "object" ? Object.keys(v).length : 0),
  join: (list, sep) => (Array.isArray(list) ? list.map(toText).join(toText(sep)) : toText(list)),
  split: (text, sep) => toText(text).split(toText(sep)),
  upper: (v) => toText(v).toUpperCase(),
  lower: (v) => toText(v).toLowerCase(),
  title: (v) => toText(v).replace(/\b\w/g, (c) => c.toUpperCase()),
  print: (...args) => args.map(toText).join(""),
  println: (...args) => `${args.map(toText).join(" ")}\n`,
  printf: (format, ...args) => {
    let n = 0;
    return toText(format).replace(/%[sdvq%]/g, (spec) => (spec === "%%" ? "%" : spec === "%q" ? JSON.stringify(toText(args[n++])) : toText(args[n++])));
  },
  eq: (a, ...bs) => bs.some((b) => a === b),
  ne: (a, b) => a !== b,
  not: (v) => !truthy(v),
  and: (...vs) => vs.find((v) => !truthy(v)) ?? vs.at(-1),
  or: (...vs) => vs.find((v) => truthy(v)) ?? vs.at(-1),
};
