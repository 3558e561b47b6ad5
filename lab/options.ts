// `lab up`'s options checked and defaulted, and anything in the way of the lab they describe.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULTS } from './defaults';
import { checkFleet, planFleet } from './fleet';
import { isRoot } from './mariadb';
import * as net from './net';
import { longestSocket, planLab, planPaths, planPorts, type ClusterPlan, type Resolved } from './plan';
import { portFree } from './ports';
import { labDir } from './state';
import type { LabMode, LabOptions } from './types';

export function resolveOptions(o: LabOptions): Resolved {
  const mode: LabMode = o.mode ?? (isRoot() ? 'netns' : 'loopback');
  const clusters = o.clusters ?? 0;
  const r: Resolved = {
    clusters,
    hosts: o.hosts ?? (o.masterMaster || o.clusters !== undefined ? 2 : DEFAULTS.hosts),
    masterMaster: o.masterMaster ?? false,
    mode,
    semiSync: o.semiSync ?? false,
    prefix: o.prefix ?? DEFAULTS.prefix,
    subnet: o.subnet ?? DEFAULTS.subnet,
    basePort: o.basePort ?? DEFAULTS.basePort,
    temporal: o.temporal ?? false,
    alerting: o.alerting ?? false,
    webhookPort: o.webhookPort,
    dir: labDir(o.dir),
    log: o.log ?? (() => undefined),
    temporalPorts: { port: o.temporalPort, uiPort: o.temporalUiPort },
  };
  if (!Number.isInteger(r.hosts) || r.hosts < 2 || r.hosts > 9)
    throw new Error(`--hosts ${r.hosts}: expected 2 to 9 (a primary and at least one replica)`);
  if (r.masterMaster && r.hosts !== 2)
    throw new Error(`--master-master with --hosts ${r.hosts}: a master-master pair is 2 hosts`);
  // Link names are at most 15 characters: "<prefix>-db9".
  if (!/^[a-z][a-z0-9]{0,9}$/.test(r.prefix))
    throw new Error(`--prefix ${r.prefix}: expected 1-10 lowercase letters/digits starting with a letter`);
  if (mode === 'netns' && !isRoot())
    throw new Error('--mode netns needs root (network namespaces); run as root or use --mode loopback');
  if (mode === 'netns') net.parseSubnet(r.subnet);
  if (!Number.isInteger(r.basePort) || r.basePort < 1024 || r.basePort + 100 > 65535)
    throw new Error(`--base-port ${r.basePort}: expected 1024-65435 (the writer listens on base+100)`);
  if (o.clusters !== undefined) checkFleet(r);
  else if (mode === 'loopback' && r.basePort <= 3306 && r.basePort + r.hosts > 3306)
    throw new Error(
      `--base-port ${r.basePort}: the range would include 3306, where the machine's own MariaDB listens`,
    );
  const sock = longestSocket(r.dir, planOf(r));
  if (sock.length > 100)
    throw new Error(`--dir ${r.dir}: too long for unix sockets (${sock}); choose a shorter path`);
  return r;
}

export const planOf = (o: Resolved): ClusterPlan[] => (o.clusters ? planFleet(o) : planLab(o));

/** Anything in the way of a fresh lab that this lab did not make: refuse rather than touch it. */
export async function conflicts(o: Resolved, plan: ClusterPlan[]): Promise<string[]> {
  const found: string[] = [];
  for (const p of planPaths(plan))
    if (existsSync(join(o.dir, p))) found.push(`${join(o.dir, p)} exists (left by another lab?)`);
  if (o.mode === 'netns') {
    const s = net.parseSubnet(o.subnet);
    const existing = new Set(await net.listNetns());
    for (const h of plan.flatMap((c) => c.hosts)) {
      const ns = h.netns as string;
      if (existing.has(ns)) found.push(`network namespace ${ns} exists (remove it: ip netns del ${ns})`);
      // The veth's bridge side is named as the namespace.
      if (await net.linkExists(ns)) found.push(`link ${ns} exists`);
    }
    if (await net.linkExists(net.bridgeName(o.prefix))) found.push(`link ${net.bridgeName(o.prefix)} exists`);
    for (const a of await net.subnetInUse(s))
      found.push(`subnet ${o.subnet} is in use (${a}): choose --subnet`);
  } else {
    for (const p of planPorts(plan))
      if (!(await portFree(p))) found.push(`port 127.0.0.1:${p} is in use: choose --base-port`);
  }
  return found;
}
