// What `lab up` is about to make, decided before anything is made: its clusters and hosts with
// their names, directories, addresses and ports. The lab `lab` is one cluster (planLab); a fleet
// is many (lab/fleet.ts). lab/build.ts makes either from its plan.
import { join } from 'node:path';
import { WRITER_BACKEND } from './haproxy';
import { SQL_PORT } from './defaults';
import * as net from './net';
import type { LabState } from './types';

export type Resolved = LabState['options'] & {
  clusters: number;
  dir: string;
  log: (l: string) => void;
  temporalPorts: { port?: number; uiPort?: number };
};

export interface HostPlan {
  /** Lab-wide name: state.servers' key and LabHost.name ("db1", or "fleet01/db1" in a fleet). */
  id: string;
  /** Its name in its cluster, as the inventory writes it ("db1"). */
  name: string;
  cluster: string;
  /** Its directory, relative to the lab dir. */
  dir: string;
  address: string;
  port: number;
  /** Namespace, also the name of its veth's bridge side (netns mode); else null. */
  netns: string | null;
  serverId: number;
  machine?: string;
  /** Smaller caches (ServerConfig.small): a fleet's. */
  small?: boolean;
}

export interface ClusterPlan {
  name: string;
  labels: Record<string, string>;
  /** A directory holding the cluster's hosts (a fleet's), relative to the lab dir; null for `lab`. */
  dir: string | null;
  /** db1 first: the primary. */
  hosts: HostPlan[];
  /** netns mode: its VIP. */
  vip: string | null;
  /** loopback mode: its HAProxy frontend's port, frontend and backend names. */
  writerPort: number | null;
  frontend: string;
  backend: string;
}

/** SSH host key files are named after the host: "/" is not a file name character. */
export const fileKey = (h: HostPlan) => h.id.replace('/', '-');

/** The single cluster `lab`: db1..dbN at .11.., VIP .100; loopback ports base.., writer base+100. */
export function planLab(o: Resolved): ClusterPlan[] {
  const netns = o.mode === 'netns';
  const subnet = netns ? net.parseSubnet(o.subnet) : null;
  const hosts = Array.from({ length: o.hosts }, (_, i): HostPlan => {
    const name = `db${i + 1}`;
    return {
      id: name,
      name,
      cluster: 'lab',
      dir: name,
      address: subnet ? net.hostAddress(subnet, i + 1) : '127.0.0.1',
      port: netns ? SQL_PORT : o.basePort + i,
      netns: netns ? net.nsName(o.prefix, name) : null,
      serverId: i + 1,
    };
  });
  return [
    {
      name: 'lab',
      labels: {},
      dir: null,
      hosts,
      vip: subnet ? net.vipAddress(subnet) : null,
      writerPort: netns ? null : o.basePort + 100,
      frontend: 'writer',
      backend: WRITER_BACKEND,
    },
  ];
}

/** Every port the plan listens on in loopback mode (hosts and writer frontends). */
export const planPorts = (plan: ClusterPlan[]): number[] =>
  plan.flatMap((c) => [...c.hosts.map((h) => h.port), ...(c.writerPort ? [c.writerPort] : [])]);

/** The entries of the lab dir the plan creates (the top level only). */
export const planPaths = (plan: ClusterPlan[]): string[] => [
  'secrets',
  'ssh',
  'inventory.yaml',
  'haproxy.cfg',
  ...plan.flatMap((c) => (c.dir ? [c.dir] : c.hosts.map((h) => h.dir))),
];

/** The longest unix socket path of the plan: sockets are limited to about 100 characters. */
export function longestSocket(dir: string, plan: ClusterPlan[]): string {
  const socks = plan.flatMap((c) => c.hosts.map((h) => join(dir, h.dir, 'mysqld.sock')));
  return socks.reduce((a, b) => (b.length > a.length ? b : a), '');
}
