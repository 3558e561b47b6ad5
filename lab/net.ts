// Namespaces, the lab bridge and veth pairs (netns mode). Every name carries the lab's prefix.
import { run, succeeds } from './sh';

export const nsName = (prefix: string, host: string) => `${prefix}-${host}`;
export const bridgeName = (prefix: string) => `${prefix}-br`;
/** Bridge-side end of a host's veth pair; the namespace side is always eth0. */
export const vethName = (prefix: string, host: string) => `${prefix}-${host}`;

export interface Subnet {
  /** "10.99.0" */
  base: string;
  cidr: string;
}

export function parseSubnet(cidr: string): Subnet {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.0\/24$/.exec(cidr);
  if (!m || m.slice(1).some((o) => Number(o) > 255))
    throw new Error(`--subnet ${cidr}: expected an IPv4 /24 ending in .0, e.g. 10.99.0.0/24`);
  return { base: `${m[1]}.${m[2]}.${m[3]}`, cidr };
}

export const hostAddress = (s: Subnet, i: number) => `${s.base}.${10 + i}`;
export const bridgeAddress = (s: Subnet) => `${s.base}.1`;
export const vipAddress = (s: Subnet) => `${s.base}.100`;

export async function listNetns(): Promise<string[]> {
  const out = await run(['ip', 'netns', 'list']);
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0])
    .filter(Boolean);
}

export async function linkExists(name: string): Promise<boolean> {
  return succeeds(['ip', 'link', 'show', 'dev', name]);
}

/** Addresses already configured in the subnet anywhere in the root namespace (a clash). */
export async function subnetInUse(s: Subnet): Promise<string[]> {
  const out = await run(['ip', '-4', '-o', 'addr', 'show']);
  return out
    .split('\n')
    .filter((l) => l.includes(` inet ${s.base}.`))
    .map((l) => l.trim().split(/\s+/).slice(1, 4).join(' '));
}

export async function addBridge(name: string, s: Subnet): Promise<void> {
  await run(['ip', 'link', 'add', name, 'type', 'bridge']);
  await run(['ip', 'addr', 'add', `${bridgeAddress(s)}/24`, 'dev', name]);
  await run(['ip', 'link', 'set', name, 'up']);
}

export async function addNetns(ns: string): Promise<void> {
  await run(['ip', 'netns', 'add', ns]);
}

/** veth pair: `veth` on the bridge, `eth0` with the host's address inside the namespace. */
export async function plugHost(ns: string, veth: string, bridge: string, address: string): Promise<void> {
  await run(['ip', 'link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
  await run(['ip', 'link', 'set', veth, 'master', bridge]);
  await run(['ip', 'link', 'set', veth, 'up']);
  const inNs = (...a: string[]) => run(['ip', '-n', ns, ...a]);
  await inNs('addr', 'add', `${address}/24`, 'dev', 'eth0');
  await inNs('link', 'set', 'eth0', 'up');
  await inNs('link', 'set', 'lo', 'up');
}

export async function delNetns(ns: string): Promise<void> {
  if ((await listNetns()).includes(ns)) await run(['ip', 'netns', 'del', ns]);
}

export async function delLink(name: string): Promise<void> {
  if (!(await linkExists(name))) return;
  try {
    await run(['ip', 'link', 'del', name]);
  } catch (e) {
    // A veth goes with its peer: the kernel removes it some time after its namespace is deleted,
    // possibly between the check above and the delete. Gone is what we wanted.
    if (await linkExists(name)) throw e;
  }
}

/**
 * Partition = the bridge-side end of the host's veth down: the host keeps its addresses and
 * processes (as a real partitioned server does) but no frame reaches or leaves it, and TCP
 * peers only notice through their own timeouts (heartbeats, slave_net_timeout).
 */
export async function setLink(veth: string, up: boolean): Promise<void> {
  await run(['ip', 'link', 'set', veth, up ? 'up' : 'down']);
}

export async function linkIsUp(veth: string): Promise<boolean> {
  const out = await run(['ip', '-o', 'link', 'show', 'dev', veth]);
  return /<[^>]*\bUP\b[^>]*>/.test(out);
}

export async function nsHasAddress(ns: string, address: string): Promise<boolean> {
  const out = await run(['ip', '-n', ns, '-4', '-o', 'addr', 'show', 'dev', 'eth0']);
  return out.includes(` inet ${address}/`);
}

/** Removes an address from the namespace's eth0 if it is there (idempotent). */
export async function nsDelAddress(ns: string, cidr: string): Promise<boolean> {
  if (!(await nsHasAddress(ns, cidr.replace(/\/\d+$/, '')))) return false;
  await run(['ip', '-n', ns, 'addr', 'del', cidr, 'dev', 'eth0']);
  return true;
}
