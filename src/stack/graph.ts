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
