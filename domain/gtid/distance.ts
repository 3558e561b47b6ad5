// How far apart two positions are, and the first position both contain: what provisioning
// reports while a new replica catches up, and where two replicas are stopped to be compared.
import type { Flavor } from '../inventory';
import { compareMariadbPos, formatMariadbGtidList, parseMariadbGtidPos, type MariadbGtid } from './mariadb';
import {
  formatMysqlGtidSet,
  mysqlGtidCount,
  mysqlGtidSubtract,
  mysqlGtidUnion,
  parseMysqlGtidSet,
} from './mysql';

/**
 * Transactions `target` still lacks of `primary`. MariaDB: per domain, the primary's seq_no minus
 * the target's (seq_no counts every transaction of a domain, whichever server wrote it), summed.
 * MySQL: the number of GTIDs in primary minus target.
 */
export function gtidDistance(flavor: Flavor, target: string, primary: string): number {
  if (flavor === 'mysql')
    return mysqlGtidCount(mysqlGtidSubtract(parseMysqlGtidSet(primary), parseMysqlGtidSet(target)));
  const have = new Map(parseMariadbGtidPos(target).map((g) => [g.domain, g.seq]));
  return parseMariadbGtidPos(primary).reduce(
    (sum, g) => sum + Math.max(0, g.seq - (have.get(g.domain) ?? 0)),
    0,
  );
}

/**
 * The smallest position containing both `a` and `b`, for two replicas of one primary: each will
 * reach it. MariaDB: per domain the entry with the higher seq_no; two different GTIDs with one
 * seq_no mean the histories split, and no position contains both.
 */
export function gtidCommonPosition(flavor: Flavor, a: string, b: string): string {
  if (flavor === 'mysql')
    return formatMysqlGtidSet(mysqlGtidUnion(parseMysqlGtidSet(a), parseMysqlGtidSet(b)));
  const { domains } = compareMariadbPos(parseMariadbGtidPos(a), parseMariadbGtidPos(b));
  const out: MariadbGtid[] = [];
  for (const d of domains) {
    if (d.relation === 'diverged')
      throw new Error(
        `positions ${a} and ${b} diverged in domain ${d.domain}: no position contains both (errant transactions?)`,
      );
    out.push((d.relation === 'behind' ? d.b : (d.a ?? d.b)) as MariadbGtid);
  }
  return formatMariadbGtidList(out);
}
