// `lab up --clusters N`: a fleet of N small clusters fleet01..fleetNN (2 hosts each unless
// --hosts: a primary and replicas) on one bridge, under one Temporal and in one inventory, each
// with its own writer endpoint. lab/build.ts makes it exactly as it makes the lab `lab`.
//   netns:    cluster k's block of the /24 starts at .10+(k-1)(H+1): its VIP, then db1..dbH
//             (fleet01: VIP .10, db1 .11, db2 .12; fleet02: VIP .13, db1 .14, ...).
//   loopback: cluster k's block of 10 ports starts at base+10(k-1): its HAProxy frontend, then
//             db1..dbH (one HAProxy, a frontend and a backend per cluster).
// For drain-host, dbI of every cluster runs on machine mI: m1 holds every primary. The servers are
// the lab's with smaller caches (a few rows each; about 55 MB RSS instead of 100).
import { SQL_PORT } from './defaults';
import * as net from './net';
import type { ClusterPlan, HostPlan, Resolved } from './plan';

/** Cluster names have two digits. */
const MAX_CLUSTERS = 99;
/** Addresses .10-.254 of the /24 are the clusters' (.1 is the bridge). */
const FIRST_ADDRESS = 10;
const LAST_ADDRESS = 254;
const PORTS_PER_CLUSTER = 10;

const pad = (k: number) => String(k).padStart(2, '0');
export const fleetClusterName = (k: number) => `fleet${pad(k)}`;

/** How many clusters of `hosts` hosts fit, and what limits it. */
export function fleetLimit(o: Pick<Resolved, 'mode' | 'hosts' | 'basePort'>): { max: number; why: string } {
  if (o.mode === 'netns') {
    const max = Math.min(MAX_CLUSTERS, Math.floor((LAST_ADDRESS - FIRST_ADDRESS + 1) / (o.hosts + 1)));
    return {
      max,
      why: `a /24 subnet holds ${max} clusters of ${o.hosts} hosts (each takes ${o.hosts + 1} addresses: its VIP and its hosts)`,
    };
  }
  const fit = Math.floor((65536 - o.basePort) / PORTS_PER_CLUSTER);
  return fit >= MAX_CLUSTERS
    ? { max: MAX_CLUSTERS, why: 'cluster names have two digits (fleet01..fleet99)' }
    : {
        max: fit,
        why: `ports from --base-port ${o.basePort} hold ${fit} clusters (${PORTS_PER_CLUSTER} ports each)`,
      };
}

/** Refuses a fleet that cannot be built, before anything is made. */
export function checkFleet(o: Resolved): void {
  const { max, why } = fleetLimit(o);
  if (!Number.isInteger(o.clusters) || o.clusters < 1 || o.clusters > max)
    throw new Error(
      `--clusters ${o.clusters}: expected 1 to ${max}: ${why}` +
        (o.mode === 'netns' ? '; fewer --hosts fit more clusters' : ''),
    );
  if (o.alerting)
    throw new Error('--alerting with --clusters: the alerting chain watches the lab `lab`; leave one out');
  // Link names are at most 15 characters: "<prefix>-99db9".
  if (o.mode === 'netns' && o.prefix.length > 9)
    throw new Error(
      `--prefix ${o.prefix}: a fleet's prefix has at most 9 characters (links are "<prefix>-01db1")`,
    );
  const last = o.basePort + o.clusters * PORTS_PER_CLUSTER - 1;
  if (o.mode === 'loopback' && o.basePort <= 3306 && last >= 3306)
    throw new Error(
      `--base-port ${o.basePort}: the fleet's ports ${o.basePort}-${last} would include 3306, where the machine's own MariaDB listens`,
    );
}

export function planFleet(o: Resolved): ClusterPlan[] {
  const netns = o.mode === 'netns';
  const subnet = netns ? net.parseSubnet(o.subnet) : null;
  return Array.from({ length: o.clusters }, (_, c): ClusterPlan => {
    const k = c + 1;
    const cluster = fleetClusterName(k);
    const firstPort = o.basePort + (k - 1) * PORTS_PER_CLUSTER;
    const first = subnet ? FIRST_ADDRESS + (k - 1) * (o.hosts + 1) : 0;
    const hosts = Array.from({ length: o.hosts }, (_, i): HostPlan => {
      const name = `db${i + 1}`;
      return {
        id: `${cluster}/${name}`,
        name,
        cluster,
        dir: `${cluster}/${name}`,
        address: subnet ? `${subnet.base}.${first + 1 + i}` : '127.0.0.1',
        port: netns ? SQL_PORT : firstPort + 1 + i,
        netns: netns ? `${o.prefix}-${pad(k)}${name}` : null,
        serverId: i + 1,
        machine: `m${i + 1}`,
        small: true,
      };
    });
    return {
      name: cluster,
      labels: { fleet: 'lab', index: pad(k) },
      dir: cluster,
      hosts,
      vip: subnet ? `${subnet.base}.${first}` : null,
      writerPort: netns ? null : firstPort,
      frontend: cluster,
      backend: `${cluster}_writer`,
    };
  });
}
