// A host given in a provision run's input (`newHost`) instead of the inventory: checked against
// the cluster before the worker writes it into its inventory file. The same entry given twice (a
// retried or repeated run) is "present", not a clash, so adding is idempotent.
import type { Cluster, Host } from '../inventory';

export type NewHostCheck = { ok: true; present: boolean } | { ok: false; problems: string[] };

/** What adding the host to the worker's inventory file did (activity addInventoryHost). */
export interface AddInventoryHostResult {
  /** False when the same entry was there already (a retry, or a run given it again). */
  added: boolean;
  inventoryFile: string;
}

/** Two entries are the same host when every field (defaults applied) is equal. */
export function sameHostEntry(a: Host, b: Host): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

export function checkNewHost(cluster: Cluster, host: Host): NewHostCheck {
  const existing = cluster.hosts.find((h) => h.name === host.name);
  if (existing) {
    if (sameHostEntry(existing, host)) return { ok: true, present: true };
    return {
      ok: false,
      problems: [
        `${host.name} is already in cluster ${cluster.name} with another entry (${describe(existing)}, the input says ${describe(host)}): drop newHost to provision the inventory's ${host.name}, or give newHost exactly as the inventory has it`,
      ],
    };
  }
  const problems: string[] = [];
  const sameServer = cluster.hosts.find((h) => h.address === host.address && h.port === host.port);
  if (sameServer)
    problems.push(
      `${host.address}:${host.port} is ${sameServer.name} in cluster ${cluster.name}: a new host needs a server of its own`,
    );
  const key = host.ssh?.hostKey;
  const sameKey = key ? cluster.hosts.find((h) => h.ssh?.hostKey === key) : undefined;
  if (sameKey)
    problems.push(
      `the SSH host key of ${host.name} is ${sameKey.name}'s: copy it from the new machine (ssh-keyscan -t ed25519 ${host.address}), not from another host`,
    );
  if (!host.ssh && cluster.hosts.some((h) => h.ssh))
    problems.push(
      `${host.name} has no ssh entry (port, hostKey): the copy streams over SSH; add ssh: {hostKey: "ssh-ed25519 AAAA..."} (ssh-keyscan -t ed25519 ${host.address} prints it)`,
    );
  return problems.length ? { ok: false, problems } : { ok: true, present: false };
}

function describe(h: Host): string {
  return `${h.address}:${h.port}${h.ssh ? `, ssh ${h.ssh.port} ${h.ssh.hostKey.slice(0, 24)}…` : ', no ssh'}`;
}

/** Keys in one order, absent optional fields left out: JSON of two equal entries is equal. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, canonical(v)]),
    );
  return value;
}
