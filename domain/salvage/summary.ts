// GTIDs as a report reads them: "0-1-101..0-1-479 (379 transactions)" rather than 379 lines.
import { formatMysqlGtidSet, mysqlGtidUnion, parseMysqlGtidSet, EMPTY_MYSQL_GTID_SET } from '../gtid';
import type { Flavor } from '../inventory';
import { gtidKey } from './holdings';

export interface GtidSummary {
  readonly count: number;
  /** MariaDB "0-1-101..0-1-479" (runs of one domain and server); MySQL "uuid:101-479" per UUID. */
  readonly ranges: readonly string[];
  /** "0-1-101..0-1-479 (379 transactions)"; "no transactions" when there are none. */
  readonly text: string;
}

/** Summarises GTIDs given in log order. Throws GtidParseError on a malformed GTID. */
export function summarizeGtids(flavor: Flavor, gtids: readonly string[]): GtidSummary {
  const ranges = flavor === 'mysql' ? mysqlRanges(gtids) : mariadbRanges(gtids);
  const count = gtids.length;
  const text =
    count === 0 ? 'no transactions' : `${ranges.join(', ')} (${count} transaction${count === 1 ? '' : 's'})`;
  return { count, ranges, text };
}

// Runs in log order: a run continues while the domain and server stay and seq_no grows by one.
function mariadbRanges(gtids: readonly string[]): string[] {
  const runs: { first: string; last: string; domain: string; serverId: number | null; n: number }[] = [];
  for (const gtid of gtids) {
    const k = gtidKey('mariadb', gtid);
    const run = runs.at(-1);
    if (run && run.domain === k.stream && run.serverId === k.serverId && k.n === run.n + 1) {
      run.last = k.text;
      run.n = k.n;
    } else runs.push({ first: k.text, last: k.text, domain: k.stream, serverId: k.serverId, n: k.n });
  }
  return runs.map((r) => (r.first === r.last ? r.first : `${r.first}..${r.last}`));
}

function mysqlRanges(gtids: readonly string[]): string[] {
  const set = gtids.reduce((acc, g) => mysqlGtidUnion(acc, parseMysqlGtidSet(g)), EMPTY_MYSQL_GTID_SET);
  const text = formatMysqlGtidSet(set);
  return text === '' ? [] : text.split(',');
}
