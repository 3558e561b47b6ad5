// The lab's inventory: cluster `lab` (or a fleet's clusters), secrets by file reference only.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { validateInventory, type Inventory } from '../domain/inventory';
import type { ServiceScripts } from './service';

export interface LabInventoryHost {
  name: string;
  address: string;
  port: number;
  hostKey: string | null;
  /** The host's mariadbd-start.sh / mariadbd-stop.sh (lab/service.ts). */
  service: ServiceScripts;
  /** Where successover persists read_only (lab/mariadb.ts includes it in the host's options). */
  optionFile?: string;
  /** The inventory's `machine:` (a fleet's, for drain-host). */
  machine?: string;
}

export interface LabInventoryCluster {
  name: string;
  /** Written when not empty. */
  labels: Record<string, string>;
  /** The primary first. */
  hosts: LabInventoryHost[];
  traffic:
    | { type: 'vip'; address: string; interface: string }
    | { type: 'haproxy'; runtimeApi: string; backend: string };
}

export interface LabInventoryInput {
  clusters: LabInventoryCluster[];
  mysql: { user: string; passwordFile: string };
  replication: { user: string; passwordFile: string };
  sshPrivateKeyFile: string | null;
  webhookTokenFile: string;
}

/** The document to write (only what the lab chose) and its validated, defaulted form. */
export function labInventory(i: LabInventoryInput): { doc: unknown; inventory: Inventory } {
  const doc = {
    clusters: i.clusters.map((c) => ({
      name: c.name,
      flavor: 'mariadb',
      ...(Object.keys(c.labels).length ? { labels: c.labels } : {}),
      primary: c.hosts[0].name,
      hosts: c.hosts.map(hostEntry),
      traffic: c.traffic,
      // Short windows: the lab is for demos and tests that fail over again and again.
      policy: { maxLagSeconds: 5, relayLogWaitSeconds: 60, recoveryBlockSeconds: 0 },
    })),
    // The alert receiver (`successover webhook serve`); alert names and labels as deploy/ ships them.
    webhook: { tokenFile: i.webhookTokenFile },
    credentials: {
      mysql: i.mysql,
      replication: i.replication,
      ...(i.sshPrivateKeyFile ? { ssh: { user: 'root', privateKeyFile: i.sshPrivateKeyFile } } : {}),
    },
  };
  const r = validateInventory(doc);
  if (!r.ok) throw new Error(`the lab built an invalid inventory (a bug):\n  ${r.problems.join('\n  ')}`);
  return { doc, inventory: r.inventory };
}

function hostEntry(h: LabInventoryHost) {
  return {
    name: h.name,
    address: h.address,
    port: h.port,
    ...(h.hostKey ? { ssh: { port: 22, hostKey: h.hostKey, user: 'root' } } : {}),
    dataCenter: 'lab',
    ...(h.machine ? { machine: h.machine } : {}),
    service: h.service,
    ...(h.optionFile ? { optionFile: h.optionFile } : {}),
  };
}

/** Writes the document as built (not the parsed one with every default filled in). */
export function writeInventory(file: string, doc: unknown): void {
  const header = '# Written by `successover lab up`; `lab down` removes it.\n';
  // Atomically: a worker (re)loading the file never reads half of it.
  writeFileSync(`${file}.tmp`, header + stringify(doc, { lineWidth: 0 }), { mode: 0o644 });
  renameSync(`${file}.tmp`, file);
}

/**
 * The lab inventory with one more host in cluster `lab` (`lab add-host`), validated; the caller
 * writes `doc` (writeInventory) once the host is ready.
 */
export function withInventoryHost(file: string, h: LabInventoryHost): { doc: unknown; inventory: Inventory } {
  const doc = parse(readFileSync(file, 'utf8')) as { clusters: { name: string; hosts: unknown[] }[] };
  const cluster = doc.clusters.find((c) => c.name === 'lab');
  if (!cluster) throw new Error(`${file} has no cluster lab: not a lab inventory`);
  cluster.hosts.push(hostEntry(h));
  const r = validateInventory(doc);
  if (!r.ok) throw new Error(`adding ${h.name} would make ${file} invalid:\n  ${r.problems.join('\n  ')}`);
  return { doc, inventory: r.inventory };
}
