// One cluster's replication, as `lab up` sets it up over the root sockets: accounts, every replica
// streaming from db1 by GTID, then db1 made writable (a pair: db1 replicating from db2 too).
import { ACCOUNT_NAMES } from './defaults';
import { createAccounts, facts, replicateFrom, withRoot, type Accounts } from './mariadb';
import type { Resolved } from './plan';
import { waitFor } from './sh';
import type { LabHost } from './types';

/**
 * One cluster's topology: accounts (without binlog events) on every host, then every replica
 * streaming from the first host by GTID, and only then that host made writable.
 */
export async function replicate(
  hosts: LabHost[],
  accounts: Accounts,
  o: Pick<Resolved, 'semiSync' | 'masterMaster' | 'log'>,
): Promise<void> {
  await Promise.all(hosts.map((h) => withRoot(h.socket, (c) => createAccounts(c, accounts))));
  const [primary, ...replicas] = hosts;
  const pos = await withRoot(primary.socket, async (c) => {
    // MariaDB 10.11 does not count an acknowledgement of the first event sent to a semi-sync
    // replica that connected at an empty position ("semi-sync up to file , position 0"): that
    // commit waits the whole rpl_semi_sync_master_timeout (10 s).
    // Semi-sync (on in every node's configuration) is paused for this setup transaction and
    // resumed once the replicas have it (resumeSemiSync).
    if (o.semiSync) await c.query('SET GLOBAL rpl_semi_sync_master_enabled=0');
    await c.query(`CREATE DATABASE ${c.escapeId(ACCOUNT_NAMES.database)}`);
    return (await facts(c)).gtidBinlogPos;
  });
  await Promise.all(
    replicas.map((h) =>
      withRoot(h.socket, async (c) => {
        if (o.semiSync) await c.query('SET GLOBAL rpl_semi_sync_slave_enabled=0');
        await replicateFrom(c, { host: primary.address, port: primary.port }, accounts.replication);
      }),
    ),
  );
  // Every replica streams before the primary is opened for writes.
  await Promise.all(replicas.map((h) => ioRunning(h, primary)));
  await Promise.all(
    replicas.map((h) =>
      withRoot(h.socket, async (c) => {
        const [rows] = await c.query('SELECT MASTER_GTID_WAIT(?, 10) AS r', [pos]);
        if (Number((rows as { r: number }[])[0].r) !== 0)
          throw new Error(`${h.name} did not apply ${pos} from ${primary.name} within 10 s`);
      }),
    ),
  );
  if (o.masterMaster) {
    // The way back of the pair: db1 replicates from db2 and skips its own writes coming back
    // (same server_id), as seed 004's pairs do. db2's binlog holds only db1's transactions now.
    o.log(`master-master: ${primary.name} replicates from ${hosts[1].name} too`);
    await withRoot(primary.socket, (c) =>
      replicateFrom(c, { host: hosts[1].address, port: hosts[1].port }, accounts.replication),
    );
    await ioRunning(primary, hosts[1]);
  }
  if (o.semiSync) await resumeSemiSync(primary, replicas);
  await withRoot(primary.socket, async (c) => {
    // The one time the lab itself makes a node writable; from here on only runbooks do.
    await c.query('SET GLOBAL read_only=0');
  });
}

const ioRunning = (h: LabHost, source: LabHost) =>
  waitFor(
    `${h.name} to connect to ${source.name}`,
    () => withRoot(h.socket, async (c) => ((await facts(c)).replica?.ioRunning === 'Yes' ? true : undefined)),
    10_000,
  );

/** Semi-sync on again, the replicas reconnecting from a non-empty position so acks count. */
async function resumeSemiSync(primary: LabHost, replicas: LabHost[]): Promise<void> {
  await withRoot(primary.socket, (c) => c.query('SET GLOBAL rpl_semi_sync_master_enabled=1'));
  await Promise.all(
    replicas.map((h) =>
      withRoot(h.socket, async (c) => {
        await c.query('STOP SLAVE IO_THREAD');
        await c.query('SET GLOBAL rpl_semi_sync_slave_enabled=1');
        await c.query('START SLAVE IO_THREAD');
      }),
    ),
  );
  await waitFor(
    `${replicas.length} semi-sync replica(s) on ${primary.name}`,
    () =>
      withRoot(primary.socket, async (c) => {
        const [rows] = await c.query("SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_master_clients'");
        return Number((rows as { Value: string }[])[0].Value) === replicas.length ? true : undefined;
      }),
    10_000,
  );
}
