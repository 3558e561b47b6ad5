// Bench only: a killed primary comes back as a replica of the new one so the next run has every
// node. Used by the emergency bench (when the product's rejoin runbook does not apply) and by the
// emergency floor (bench/floor.ts).
import { readFileSync } from 'node:fs';
import type { RowDataPacket } from 'mysql2/promise';
import {
  formatMariadbGtidList,
  mariadbStateUpTo,
  parseMariadbGtidPos,
  parseMariadbGtidState,
} from '../domain/gtid';
import { ACCOUNT_NAMES, type LabInfo } from '../lab/index';
import { replicateFrom, withRoot } from '../lab/mariadb';

/**
 * The host forgets its own binlog past `at` (what it committed that nobody received, never
 * acknowledged with semi-sync) and replicates from `newPrimary`, resuming from `at`: the position
 * the new primary was promoted at. In production the old primary is left fenced and rejoined by a
 * provisioning run.
 */
export async function rejoinAt(info: LabInfo, host: string, newPrimary: string, at: string): Promise<void> {
  const source = info.hosts.find((h) => h.name === newPrimary);
  const target = info.hosts.find((h) => h.name === host);
  if (!source || !target) throw new Error(`rejoin ${host} → ${newPrimary}: unknown lab host`);
  const password = readFileSync(info.secrets.replicationPasswordFile, 'utf8').trim();
  await withRoot(target.socket, async (c) => {
    // Its binlog may hold writes past `at` that nobody received: drop them, but keep the other
    // servers' history, or the next recovery would see the replicas' GTIDs from them as errant.
    const [[{ state }]] = await c.query<RowDataPacket[]>('SELECT @@GLOBAL.gtid_binlog_state AS state');
    const cut = formatMariadbGtidList(
      mariadbStateUpTo(parseMariadbGtidState(String(state)), parseMariadbGtidPos(at)),
    );
    await c.query('STOP SLAVE');
    await c.query('RESET SLAVE ALL');
    await c.query('RESET MASTER');
    await c.query('SET GLOBAL gtid_binlog_state = ?', [cut]);
    await c.query('SET GLOBAL gtid_slave_pos = ?', [at]);
    await replicateFrom(
      c,
      { host: source.address, port: source.port },
      { user: ACCOUNT_NAMES.replication, password },
    );
  });
}
