/**
 * GTID core: pure, deterministic, safe to import from workflows.
 *
 * - Facade (what runbooks use): `gtidOps(flavor)` answers normalize / compare / contains /
 *   isCaughtUp / missing / errant / rank over GTID texts exactly as the servers print them
 *   (MySQL @@gtid_executed; MariaDB positions such as @@gtid_current_pos, and @@gtid_binlog_state
 *   for `errant`). Results are plain JSON, fit for workflow history.
 * - MySQL sets: `parseMysqlGtidSet` / `formatMysqlGtidSet` and union, subtract, intersect,
 *   isSubset, equals, count over the parsed `MysqlGtidSet` (tags of MySQL 8.4 included).
 * - MariaDB lists: `parseMariadbGtidPos` / `parseMariadbGtidState`, `compareMariadbPos`,
 *   `mariadbPosMissing`, `mariadbErrant`, `mariadbStateToPos`.
 * Malformed text throws `GtidParseError` (message names the entry at fault); wrap it in a classified
 * failure where it is caught. Numbers beyond 2^53-1 are refused rather than rounded.
 */
export { GtidParseError } from './errors';
export type { Interval } from './intervals';
export { type GtidRelation, invertRelation } from './relation';
export {
  EMPTY_MYSQL_GTID_SET,
  formatMysqlGtidSet,
  mysqlGtidCount,
  mysqlGtidEquals,
  mysqlGtidIntersect,
  mysqlGtidIsEmpty,
  mysqlGtidIsSubset,
  mysqlGtidSubtract,
  mysqlGtidUnion,
  normalizeMysqlGtidSet,
  parseMysqlGtidSet,
  type MysqlGtidEntry,
  type MysqlGtidSet,
} from './mysql';
export {
  compareMariadbPos,
  formatGtid,
  formatMariadbGtidList,
  mariadbErrant,
  mariadbPosContains,
  mariadbPosMissing,
  mariadbStateToPos,
  mariadbStateUpTo,
  normalizeMariadbGtidList,
  parseMariadbGtidList,
  parseMariadbGtidPos,
  parseMariadbGtidState,
  type MariadbDomainComparison,
  type MariadbErrantEntry,
  type MariadbGtid,
  type MariadbGtidKind,
  type MariadbPosComparison,
} from './mariadb';
export {
  compareGtidScores,
  gtidOps,
  type AdvancementRanking,
  type GtidScore,
  type ErrantTransactions,
  type GtidOps,
  type NamedGtid,
} from './ops';
