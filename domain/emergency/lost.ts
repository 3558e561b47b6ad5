// What the recovery lost: once the dead primary answers again, the transactions it committed that
// never reached the new primary. They are not replayed automatically (they may conflict with
// what was written since); the report tells a human exactly what to compensate and from where.
//
// Compared as histories (MySQL gtid_executed, MariaDB gtid_binlog_state), not positions: after
// the recovery the new primary keeps numbering the same MariaDB domain, so its position soon
// passes the dead primary's seq_no and a position comparison (gtidOps.missing) would report
// nothing lost. Per domain and server_id, the dead primary's writes stay told apart.
import type { GtidOps } from '../gtid';
import { readGtidOfAny } from '../ranking';

export interface LostInput {
  gtid: GtidOps;
  oldPrimary: string;
  /** The dead primary's gtidHistory once it answers again; null while it is still unreachable. */
  oldPrimaryHistory: string | null;
  newPrimary: string;
  newPrimaryHistory: string;
}

export type LostReport =
  | { known: false; summary: string }
  | {
      known: true;
      lost: boolean;
      /** MySQL: the lost GTID set. MariaDB: the dead primary's binlog-state entries beyond the new primary's. */
      gtids: string;
      /** MySQL only: how many transactions; null on MariaDB. */
      count: number | null;
      summary: string;
      /** How to find them, for the compensation. '' when nothing was lost. */
      compensation: string;
    };

export function lostTransactions(input: LostInput): LostReport {
  const { gtid, oldPrimary, oldPrimaryHistory, newPrimary, newPrimaryHistory } = input;
  if (oldPrimaryHistory === null)
    return {
      known: false,
      summary: `${oldPrimary} is still unreachable: what it committed and ${newPrimary} lacks is unknown until it answers`,
    };
  const extra = readGtidOfAny(
    [
      { host: oldPrimary, text: oldPrimaryHistory },
      { host: newPrimary, text: newPrimaryHistory },
    ],
    'GTID history (@@gtid_executed / @@gtid_binlog_state)',
    () => gtid.errant(oldPrimaryHistory, newPrimaryHistory),
  );
  if (!extra.errant)
    return {
      known: true,
      lost: false,
      gtids: '',
      count: extra.flavor === 'mysql' ? 0 : null,
      summary: `nothing lost: ${newPrimary} has every transaction ${oldPrimary} committed`,
      compensation: '',
    };
  if (extra.flavor === 'mysql')
    return {
      known: true,
      lost: true,
      gtids: extra.gtidSet,
      count: extra.count,
      summary: `${extra.count} transaction${extra.count === 1 ? '' : 's'} committed on ${oldPrimary} never reached ${newPrimary}: ${extra.gtidSet}`,
      compensation: `extract them from ${oldPrimary}'s binary logs with mysqlbinlog --include-gtids='${extra.gtidSet}', review them against what ${newPrimary} wrote since, and apply what still makes sense on ${newPrimary}`,
    };
  const ranges = extra.entries.map((e) =>
    e.primarySeq === null
      ? `domain ${e.domain}: everything from server ${e.serverId} up to ${e.domain}-${e.serverId}-${e.replicaSeq}`
      : `domain ${e.domain}: server ${e.serverId} after ${e.domain}-${e.serverId}-${e.primarySeq} up to ${e.domain}-${e.serverId}-${e.replicaSeq}`,
  );
  const gtids = extra.entries.map((e) => `${e.domain}-${e.serverId}-${e.replicaSeq}`).join(',');
  return {
    known: true,
    lost: true,
    gtids,
    count: null,
    summary: `transactions committed on ${oldPrimary} never reached ${newPrimary}: ${ranges.join('; ')}`,
    compensation: `extract these events from ${oldPrimary}'s binary logs with mariadb-binlog (${ranges.join('; ')}), review them against what ${newPrimary} wrote since, and apply what still makes sense on ${newPrimary}`,
  };
}
