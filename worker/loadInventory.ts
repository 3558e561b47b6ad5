// Reads and validates an inventory: one YAML file, or a directory of them (every *.yaml and *.yml
// in it, sorted by name, not recursive, hidden files skipped) merged into one: their clusters one
// after the other, credentials and webhook from the one file that holds each. Exit codes of
// `inventory check` follow the kinds here.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse } from 'yaml';
import { validateInventory, type Inventory, type InventorySources } from '../domain/inventory';

export class InventoryError extends Error {
  constructor(
    readonly kind: 'unreadable' | 'invalid',
    readonly problems: string[],
    file: string,
  ) {
    super(`${file}: ${kind === 'unreadable' ? '' : 'invalid inventory:\n  '}${problems.join('\n  ')}`);
  }
}

export interface LoadedInventory {
  inventory: Inventory;
  /** The files read: the path itself, or the directory's YAML files in the order read. */
  files: string[];
  /** Cluster name -> the file that defines it (a path of `files`). */
  clusterFiles: Map<string, string>;
}

/** True when the path is a directory (false when it is a file or cannot be read). */
export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

const YAML_FILE = /^[^.].*\.ya?ml$/;

/** The YAML files of an inventory directory, sorted by name; [] when it cannot be listed. */
export function directoryFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => YAML_FILE.test(n))
    .sort()
    .map((n) => join(dir, n))
    .filter((f) => {
      try {
        return statSync(f).isFile();
      } catch {
        return false; // a dangling symlink (an editor's lock file): not part of the inventory
      }
    });
}

/**
 * @param overrides file -> text read instead of the file: a change checked, with the other files
 *   of a directory, before it is written.
 */
export function loadInventory(path: string, overrides?: ReadonlyMap<string, string>): Inventory {
  return loadInventoryFiles(path, overrides).inventory;
}

export function loadInventoryFiles(path: string, overrides?: ReadonlyMap<string, string>): LoadedInventory {
  if (!isDirectory(path)) {
    const inventory = validated(validateInventory(readDoc(path, overrides, path)), path);
    return { inventory, files: [path], clusterFiles: new Map(inventory.clusters.map((c) => [c.name, path])) };
  }
  const files = directoryFiles(path);
  if (files.length === 0)
    throw new InventoryError(
      'unreadable',
      [
        `no inventory file in the directory: put the inventory's *.yaml or *.yml files in it, or give the file itself`,
      ],
      path,
    );
  // Every unreadable file is reported at once, each named.
  const docs: { file: string; name: string; doc: unknown }[] = [];
  const unreadable: string[] = [];
  for (const file of files) {
    const name = basename(file);
    try {
      docs.push({ file, name, doc: readDoc(file, overrides, name) });
    } catch (e) {
      if (!(e instanceof InventoryError)) throw e;
      unreadable.push(...e.problems.map((p) => `${name}: ${p}`));
    }
  }
  if (unreadable.length > 0) throw new InventoryError('unreadable', unreadable, path);
  const merged = mergeFiles(docs);
  const r = validateInventory(merged.doc, merged.sources);
  const problems = [...merged.problems, ...(r.ok ? [] : r.problems)];
  const inventory = validated(problems.length === 0 ? r : { ok: false, problems }, path);
  const clusterFiles = new Map<string, string>();
  inventory.clusters.forEach((c, i) => {
    const source = merged.sources.clusters[i];
    const file = docs.find((d) => d.name === source?.file)?.file;
    if (file) clusterFiles.set(c.name, file);
  });
  return { inventory, files, clusterFiles };
}

function validated(r: ReturnType<typeof validateInventory>, path: string): Inventory {
  if (!r.ok) throw new InventoryError('invalid', r.problems, path);
  return r.inventory;
}

function readDoc(file: string, overrides: ReadonlyMap<string, string> | undefined, shown: string): unknown {
  let text = overrides?.get(file);
  if (text === undefined)
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new InventoryError(
        'unreadable',
        [`cannot read the file (${(e as NodeJS.ErrnoException).code ?? String(e)})`],
        shown,
      );
    }
  try {
    return parse(text, { prettyErrors: true });
  } catch (e) {
    throw new InventoryError('unreadable', [`not valid YAML: ${(e as Error).message}`], shown);
  }
}

const SECTIONS = ['clusters', 'credentials', 'webhook'];

/**
 * One document from a directory's files. A section other than clusters held by two files would
 * leave which one counts to the order of names, so it is refused, naming both.
 */
function mergeFiles(docs: { name: string; doc: unknown }[]): {
  doc: Record<string, unknown>;
  sources: InventorySources;
  problems: string[];
} {
  const problems: string[] = [];
  const clusters: unknown[] = [];
  const sources: InventorySources = { clusters: [], files: docs.map((d) => d.name) };
  const doc: Record<string, unknown> = { clusters };
  const holders: Record<string, string[]> = { credentials: [], webhook: [] };
  for (const { name, doc: d } of docs) {
    if (d === null || d === undefined) continue; // empty, or comments only
    if (typeof d !== 'object' || Array.isArray(d)) {
      problems.push(
        `${name}: expected a mapping with clusters (and credentials or webhook in one file), got ${Array.isArray(d) ? 'a list' : JSON.stringify(d)}`,
      );
      continue;
    }
    const m = d as Record<string, unknown>;
    for (const key of Object.keys(m))
      if (!SECTIONS.includes(key)) problems.push(`${name}: unknown field "${key}": remove or correct it`);
    if ('clusters' in m) {
      if (Array.isArray(m.clusters))
        m.clusters.forEach((c, index) => {
          clusters.push(c);
          sources.clusters.push({ file: name, index });
        });
      else problems.push(`${name}: clusters: expected a list of clusters`);
    }
    for (const section of ['credentials', 'webhook'] as const)
      if (section in m) {
        holders[section].push(name);
        if (doc[section] === undefined) {
          doc[section] = m[section];
          sources[section] = name;
        }
      }
  }
  for (const [section, files] of Object.entries(holders))
    if (files.length > 1)
      problems.push(
        `${section}: given in ${files.join(' and ')}: an inventory directory holds it in exactly one file; keep one`,
      );
  return { doc, sources, problems };
}
