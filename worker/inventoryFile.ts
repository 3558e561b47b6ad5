// The worker's inventory file, read again whenever it changes: a host a provision run adds through
// its input (or a DBA edits in) is known to the next activity without a worker restart. A change
// that does not validate is not taken: the last good inventory stays, and the problem is logged.
//
// Only the hosts can change this way. Secrets were resolved at start (credentials and their
// files), so a changed credentials section needs a restart, as before.
//
// The path may be an inventory directory (worker/loadInventory.ts): it is read again when any of
// its YAML files changes, or one is added or removed; an edit goes to the file holding the cluster.
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { isMap, isSeq, parseDocument, type Document, type YAMLMap, type YAMLSeq } from 'yaml';
import type { Host, Inventory } from '../domain/inventory';
import { directoryFiles, isDirectory, loadInventory } from './loadInventory';

export class InventoryFile {
  private inventory: Inventory;
  private stamp: string;
  private rejected = '';
  /** Adds and removals one after the other: each is a read-modify-write of the whole file. */
  private writes: Promise<unknown> = Promise.resolve();

  constructor(
    readonly path: string,
    private readonly warn: (message: string) => void = () => {},
  ) {
    this.stamp = stampOf(path);
    this.inventory = loadInventory(path);
  }

  /** The inventory as the file has it now (or the last version of it that was valid). */
  get current(): Inventory {
    const stamp = stampOf(this.path);
    if (stamp !== this.stamp && stamp !== this.rejected) {
      try {
        this.inventory = loadInventory(this.path);
        this.stamp = stamp;
        this.rejected = '';
      } catch (e) {
        this.rejected = stamp;
        this.warn(
          `the changed inventory is not taken, the worker keeps the previous one: ${(e as Error).message}`,
        );
      }
    }
    return this.inventory;
  }

  /** Appends `host` to the cluster's hosts, keeping the file's comments and layout. */
  addHost(cluster: string, host: Host): Promise<Inventory> {
    return this.edit(cluster, (doc) => hostsOf(doc, cluster).add(doc.createNode(entryOf(host))));
  }

  /** Removes the host of that name from the cluster's hosts (nothing when absent). */
  removeHost(cluster: string, name: string): Promise<Inventory> {
    return this.edit(cluster, (doc) => {
      const hosts = hostsOf(doc, cluster);
      const i = hosts.items.findIndex((h) => isMap(h) && h.get('name') === name);
      if (i >= 0) hosts.delete(i);
    });
  }

  /** The file that defines the cluster: the inventory file, or the one of its directory. */
  fileOf(cluster: string): string {
    if (!isDirectory(this.path)) return this.path;
    for (const file of directoryFiles(this.path)) {
      try {
        if (clusterOf(parseDocument(readFileSync(file, 'utf8')), cluster)) return file;
      } catch {
        // unreadable now: the other files may still hold the cluster
      }
    }
    throw new Error(`the inventory has no cluster ${cluster}`);
  }

  private edit(cluster: string, change: (doc: Document) => void): Promise<Inventory> {
    const next = this.writes.then(() => {
      const file = this.fileOf(cluster);
      const doc = parseDocument(readFileSync(file, 'utf8'));
      change(doc);
      const text = doc.toString({ lineWidth: 0 });
      // Checked first, with the directory's other files, so a change that would break the
      // inventory never reaches the file.
      try {
        loadInventory(this.path, new Map([[file, text]]));
      } catch (e) {
        throw new Error(
          `the inventory would not be valid after the change, ${file} is left as it was: ${(e as Error).message.replace(`${this.path}: `, '')}`,
        );
      }
      // Written beside the file (a name no inventory directory reads) and renamed over it: a
      // worker never reads half of it.
      const tmp = `${file}.successover-${process.pid}.tmp`;
      writeFileSync(tmp, text, { mode: statSync(file).mode & 0o777 });
      renameSync(tmp, file);
      return this.current;
    });
    this.writes = next.catch(() => undefined);
    return next;
  }
}

/**
 * Modification time, size and inode: a rename over the file changes the inode at least. For a
 * directory, those of every YAML file in it with their names: an added or removed file counts.
 */
function stampOf(path: string): string {
  const one = (file: string) => {
    try {
      const s = statSync(file);
      return `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch {
      return 'unreadable';
    }
  };
  if (!isDirectory(path)) return one(path);
  return (
    directoryFiles(path)
      .map((f) => `${f}=${one(f)}`)
      .join('|') || 'no files'
  );
}

function clusterOf(doc: Document, cluster: string): YAMLMap | undefined {
  const clusters = doc.get('clusters');
  return isSeq(clusters)
    ? (clusters.items.find((x) => isMap(x) && x.get('name') === cluster) as YAMLMap | undefined)
    : undefined;
}

function hostsOf(doc: Document, cluster: string): YAMLSeq {
  const c = clusterOf(doc, cluster);
  if (!c) throw new Error(`the inventory has no cluster ${cluster}`);
  const hosts = c.get('hosts');
  if (!isSeq(hosts)) throw new Error(`cluster ${cluster} of the inventory has no hosts list`);
  return hosts;
}

/** The entry as a DBA would write it: defaults that equal the schema's are left out. */
function entryOf(h: Host): Record<string, unknown> {
  return {
    name: h.name,
    address: h.address,
    ...(h.port !== 3306 ? { port: h.port } : {}),
    ...(h.ssh ? { ssh: h.ssh } : {}),
    ...(h.promotion !== 'neutral' ? { promotion: h.promotion } : {}),
    ...(h.dataCenter ? { dataCenter: h.dataCenter } : {}),
    ...(h.machine ? { machine: h.machine } : {}),
    ...(h.service ? { service: h.service } : {}),
    ...(h.optionFile ? { optionFile: h.optionFile } : {}),
    ...(h.binlogBasename ? { binlogBasename: h.binlogBasename } : {}),
  };
}
