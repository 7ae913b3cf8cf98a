/**
 * The dependency graph of a stack's services: cycle detection (with the cycle named, as compose
 * does), the services a selection needs, and the reverse order for stopping.
 */

/** Services and the services each one depends on, in declaration order. */
export type DependencyGraph = ReadonlyMap<string, readonly string[]>;

/**
 * The first dependency cycle found walking services in order, as `[a, b, ..., a]`; undefined when
 * there is none. Dependencies on services missing from the graph are ignored here.
 *
 * @example
 * ```ts
 * findCycle(new Map([["a", ["b"]], ["b", ["a"]]])); // ["a", "b", "a"]
 * ```
 */
export function findCycle(graph: DependencyGraph): string[] | undefined {
  const done = new Set<string>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const visit = (name: string): string[] | undefined => {
    if (onStack.has(name)) return [...stack.slice(stack.indexOf(name)), name];
    if (done.has(name) || !graph.has(name)) return undefined;
    stack.push(name);
    onStack.add(name);
    for (const dep of graph.get(name) ?? []) {
      const cycle = visit(dep);
      if (cycle) return cycle;
    }
    stack.pop();
    onStack.delete(name);
    done.add(name);
    return undefined;
  };
  for (const name of graph.keys()) {
    const cycle = visit(name);
    if (cycle) return cycle;
  }
  return undefined;
}

/**
 * The services `roots` need: themselves and their dependencies, transitively, in graph order.
 *
 * @example
 * ```ts
 * withDependencies(new Map([["web", ["db"]], ["db", []], ["cache", []]]), ["web"]); // ["web", "db"]
 * ```
 */
export function withDependencies(graph: DependencyGraph, roots: readonly string[]): string[] {
  const needed = new Set<string>();
  const add = (name: string) => {
    if (needed.has(name) || !graph.has(name)) return;
    needed.add(name);
    for (const dep of graph.get(name) ?? []) add(dep);
  };
  for (const r of roots) add(r);
  return [...graph.keys()].filter((n) => needed.has(n));
}

/**
 * The services in an order where each comes after every service it depends on: declaration
 * order, with each service's dependencies moved just before it. Dependencies missing from the graph are ignored. Throws
 * on a cycle (check with {@link findCycle} first for a readable error).
 *
 * @example
 * ```ts
 * dependenciesFirst(new Map([["web", ["db"]], ["db", []]])); // ["db", "web"]
 * ```
 */
export function dependenciesFirst(graph: DependencyGraph): string[] {
  const order: string[] = [];
  const placed = new Set<string>();
  const visiting = new Set<string>();
  const place = (name: string) => {
    if (placed.has(name) || !graph.has(name)) return;
    if (visiting.has(name)) throw new Error(`dependency cycle through ${name}`);
    visiting.add(name);
    for (const dep of graph.get(name) ?? []) place(dep);
    visiting.delete(name);
    placed.add(name);
    order.push(name);
  };
  for (const name of graph.keys()) place(name);
  return order;
}
