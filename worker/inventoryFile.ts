// The worker's inventory file, read again whenever it changes: a host a provision run adds through
// its input (or a DBA edits in) is known to the next activity without a worker restart. A change
// that does not validate is not taken: the last good inventory stays, and the problem is logged.
//
// Only the hosts can change this way. Secrets were resolved at start (credentials and their
// files), so a changed credentials section needs a restart, as before.
import { readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { isMap, isSeq, parseDocument, type Document, type YAMLMap, type YAMLSeq } from 'yaml';
import type { Host, Inventory } from '../domain/inventory';
import { loadInventory } from './loadInventory';

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
    return this.edit((doc) => hostsOf(doc, cluster).add(doc.createNode(entryOf(host))));
  }

  /** Removes the host of that name from the cluster's hosts (nothing when absent). */
  removeHost(cluster: string, name: string): Promise<Inventory> {
    return this.edit((doc) => {
      const hosts = hostsOf(doc, cluster);
      const i = hosts.items.findIndex((h) => isMap(h) && h.get('name') === name);
      if (i >= 0) hosts.delete(i);
    });
  }

  private edit(change: (doc: Document) => void): Promise<Inventory> {
    const next = this.writes.then(() => {
      const doc = parseDocument(readFileSync(this.path, 'utf8'));
      change(doc);
      const text = doc.toString({ lineWidth: 0 });
      // Written beside the file and renamed over it: a worker never reads half of it. Checked
      // before the rename, so a change that would break the inventory never reaches the file.
      const tmp = `${this.path}.successover-${process.pid}.tmp`;
      writeFileSync(tmp, text, { mode: statSync(this.path).mode & 0o777 });
      try {
        loadInventory(tmp);
      } catch (e) {
        rmSync(tmp, { force: true });
        throw new Error(
          `the inventory would not be valid after the change, ${this.path} is left as it was: ${(e as Error).message.replace(`${tmp}: `, '')}`,
        );
      }
      renameSync(tmp, this.path);
      return this.current;
    });
    this.writes = next.catch(() => undefined);
    return next;
  }
}

/** Modification time, size and inode: a rename over the file changes the inode at least. */
function stampOf(path: string): string {
  try {
    const s = statSync(path);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch {
    return 'unreadable';
  }
}

function hostsOf(doc: Document, cluster: string): YAMLSeq {
  const clusters = doc.get('clusters');
  const c = isSeq(clusters)
    ? (clusters.items.find((x) => isMap(x) && x.get('name') === cluster) as YAMLMap | undefined)
    : undefined;
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
    ...(h.service ? { service: h.service } : {}),
    ...(h.optionFile ? { optionFile: h.optionFile } : {}),
  };
}
