import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

// No import cycle among the repository's own modules: a cycle makes load order matter (a value
// read before its module finished loading is undefined) and blurs which module depends on which.
// Type-only imports count too: they are the same dependency for a reader. Tests are left out.

const root = resolve(__dirname, '../..');
const skipped = new Set(['node_modules', 'test', 'coverage', 'dist']);

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name.startsWith('.') || skipped.has(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sources(path, out);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** The file a relative specifier names: x.ts, or x/index.ts for a folder; null outside the repo. */
function resolveSpecifier(from: string, specifier: string): string | null {
  const base = resolve(dirname(from), specifier.replace(/\.js$/, ''));
  for (const candidate of [`${base}.ts`, join(base, 'index.ts')]) if (existsSync(candidate)) return candidate;
  return null;
}

function importGraph(files: string[]): Map<string, string[]> {
  const own = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = importedFiles
      .map((f) => f.fileName)
      .filter((s) => s.startsWith('./') || s.startsWith('../'))
      .map((s) => resolveSpecifier(file, s))
      .filter((t): t is string => t !== null && own.has(t));
    graph.set(file, [...new Set(targets)].sort());
  }
  return graph;
}

/** Strongly connected components (Tarjan); a component of one file counts if it imports itself. */
function cyclicComponents(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) components.push(component);
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return components;
}

/** The shortest cycle through each file of a component, each written once as a chain a → b → a. */
function chains(graph: Map<string, string[]>, component: string[]): string[] {
  const inside = new Set(component);
  const found = new Set<string>();
  for (const start of [...component].sort()) {
    const parent = new Map<string, string>();
    const queue = [start];
    let last: string | undefined;
    while (queue.length > 0 && last === undefined) {
      const v = queue.shift()!;
      for (const w of graph.get(v) ?? []) {
        if (!inside.has(w)) continue;
        if (w === start) {
          last = v;
          break;
        }
        if (!parent.has(w)) {
          parent.set(w, v);
          queue.push(w);
        }
      }
    }
    const cycle = [last!];
    while (cycle[0] !== start) cycle.unshift(parent.get(cycle[0])!);
    const min = cycle.indexOf([...cycle].sort()[0]);
    const rotated = [...cycle.slice(min), ...cycle.slice(0, min)];
    found.add([...rotated, rotated[0]].map((f) => relative(root, f)).join(' → '));
  }
  return [...found].sort();
}

describe('imports', () => {
  it('form no cycle (type-only imports included)', () => {
    const graph = importGraph(sources(root));
    expect(graph.size).toBeGreaterThan(100); // the walk found the sources
    const cycles = cyclicComponents(graph).flatMap((c) => chains(graph, c));
    expect(cycles).toEqual([]);
  });
});
