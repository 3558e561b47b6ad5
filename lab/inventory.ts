// The lab's inventory: cluster `lab`, secrets by file reference only.
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { validateInventory, type Inventory } from '../domain/inventory';

export interface LabInventoryInput {
  hosts: { name: string; address: string; port: number; hostKey: string | null }[];
  traffic:
    | { type: 'vip'; address: string; interface: string }
    | { type: 'haproxy'; runtimeApi: string; backend: string };
  mysql: { user: string; passwordFile: string };
  replication: { user: string; passwordFile: string };
  sshPrivateKeyFile: string | null;
  webhookTokenFile: string;
}

/** The document to write (only what the lab chose) and its validated, defaulted form. */
export function labInventory(i: LabInventoryInput): { doc: unknown; inventory: Inventory } {
  const doc = {
    clusters: [
      {
        name: 'lab',
        flavor: 'mariadb',
        primary: i.hosts[0].name,
        hosts: i.hosts.map((h) => ({
          name: h.name,
          address: h.address,
          port: h.port,
          ...(h.hostKey ? { ssh: { port: 22, hostKey: h.hostKey, user: 'root' } } : {}),
          dataCenter: 'lab',
        })),
        traffic: i.traffic,
        // Short windows: the lab is for demos and tests that fail over again and again.
        policy: { maxLagSeconds: 5, relayLogWaitSeconds: 60, recoveryBlockSeconds: 0 },
      },
    ],
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

/** Writes the document as built (not the parsed one with every default filled in). */
export function writeInventory(file: string, doc: unknown): void {
  const header = '# Written by `successover lab up`; `lab down` removes it.\n';
  writeFileSync(file, header + stringify(doc, { lineWidth: 0 }), { mode: 0o644 });
}
