// The flavor-neutral facade: runbooks ask questions about GTID texts as the servers print them and
// never branch on flavor. Results are plain JSON so they can go into workflow history as they are.
import type { Flavor } from '../inventory';
import {
  compareMariadbPos,
  formatGtid,
  formatMariadbGtidList,
  MariadbErrantEntry,
  mariadbErrant,
  mariadbPosMissing,
  parseMariadbGtidPos,
  parseMariadbGtidState,
} from './mariadb';
import {
  formatMysqlGtidSet,
  mysqlGtidCount,
  mysqlGtidIsSubset,
  mysqlGtidSubtract,
  parseMysqlGtidSet,
} from './mysql';
import { GtidRelation } from './relation';

export type ErrantTransactions =
  | {
      readonly flavor: 'mysql';
      readonly errant: boolean;
      /** Canonical GTID set of the errant transactions ('' when none). */
      readonly gtidSet: string;
      readonly count: number;
      readonly summary: string;
    }
  | {
      readonly flavor: 'mariadb';
      readonly errant: boolean;
      readonly entries: readonly MariadbErrantEntry[];
      readonly summary: string;
    };

export interface NamedGtid {
  readonly name: string;
  /** MySQL: @@gtid_executed. MariaDB: a position (@@gtid_current_pos or @@gtid_slave_pos). */
  readonly gtid: string;
}

export interface AdvancementRanking {
  /** Most advanced first. Never puts a node before one that has strictly more; ties keep input order. */
  readonly order: readonly string[];
  /** A node whose position contains every other one, or null when none does (or no nodes). */
  readonly mostAdvanced: string | null;
  /** Pairs (in input order) where neither contains the other. */
  readonly diverged: readonly (readonly [string, string])[];
}

export interface ErrantOptions {
  /**
   * Leave out what originated on this server (MariaDB server_id, MySQL server_uuid): asked of a
   * writer against its pair's standby, its own writes not yet replicated are lag, not errant.
   */
  exceptOrigin?: { serverId?: number; serverUuid?: string | null };
}

export interface GtidOps {
  readonly flavor: Flavor;
  /** Canonical text. Throws GtidParseError on malformed input. */
  normalize(gtid: string): string;
  isEmpty(gtid: string): boolean;
  /** `a` relative to `b`. */
  compare(a: string, b: string): GtidRelation;
  /** Whether `a` has everything `b` has. */
  contains(a: string, b: string): boolean;
  /** Whether `target` has applied everything in the primary's position `primary`. */
  isCaughtUp(target: string, primary: string): boolean;
  /** What `target` still lacks of `primary`, canonical ('' when caught up). */
  missing(target: string, primary: string): string;
  /**
   * Transactions the replica has and the primary does not. MySQL: both @@gtid_executed.
   * MariaDB: both @@gtid_binlog_state (per domain+server, so old primaries' writes are told apart).
   */
  errant(replica: string, primary: string, options?: ErrantOptions): ErrantTransactions;
  /**
   * How advanced a position is, as a number pair compared lexicographically (higher is more
   * advanced). A linear extension of `contains`: a position that has everything another has and
   * more scores strictly higher, equal positions score the same, and any two scores compare, so
   * sorting by it is a total order even between diverged positions. MySQL: [transaction count, 0];
   * MariaDB: [sum of seq_no over the domains, number of domains]. Throws GtidParseError.
   */
  score(gtid: string): GtidScore;
  /** Orders nodes by how advanced their positions are. Node names must be unique. */
  rank(nodes: readonly NamedGtid[]): AdvancementRanking;
}

/** See GtidOps.score. */
export type GtidScore = readonly [number, number];

/** Negative when `a` scores lower than `b` (is less advanced), 0 when equal, positive when higher. */
export function compareGtidScores(a: GtidScore, b: GtidScore): number {
  return Math.sign(a[0] - b[0]) || Math.sign(a[1] - b[1]);
}

export function gtidOps(flavor: Flavor): GtidOps {
  return flavor === 'mysql' ? mysqlOps : mariadbOps;
}

// Scores are a linear extension of "contains": a strict superset always scores strictly higher, so
// sorting by score never puts a node before one that has everything it has and more.
type Score = GtidScore;

function rankWith(
  nodes: readonly NamedGtid[],
  compare: (a: string, b: string) => GtidRelation,
  score: (gtid: string) => Score,
): AdvancementRanking {
  const names = new Set<string>();
  for (const n of nodes) {
    if (names.has(n.name)) throw new Error(`cannot rank GTID positions: node "${n.name}" is listed twice`);
    names.add(n.name);
  }
  const scored = nodes.map((n, index) => ({ name: n.name, gtid: n.gtid, index, score: score(n.gtid) }));
  const order = [...scored]
    .sort((x, y) => compareGtidScores(y.score, x.score) || x.index - y.index)
    .map((n) => n.name);
  const diverged: [string, string][] = [];
  const relations = scored.map(() => new Array<GtidRelation>(scored.length));
  for (let i = 0; i < scored.length; i++) {
    for (let j = i + 1; j < scored.length; j++) {
      const r = compare(scored[i].gtid, scored[j].gtid);
      relations[i][j] = r;
      if (r === 'diverged') diverged.push([scored[i].name, scored[j].name]);
    }
  }
  const top = order.length > 0 ? scored.find((n) => n.name === order[0]) : undefined;
  const containsAll =
    top !== undefined &&
    scored.every((n) => {
      if (n.index === top.index) return true;
      const r = n.index > top.index ? relations[top.index][n.index] : relations[n.index][top.index];
      // relations[i][j] is i relative to j: the top must be ahead of or equal to every other.
      return r === 'equal' || r === (n.index > top.index ? 'ahead' : 'behind');
    });
  return { order, mostAdvanced: containsAll ? top.name : null, diverged };
}

function relationOfSets(aHasB: boolean, bHasA: boolean): GtidRelation {
  if (aHasB && bHasA) return 'equal';
  if (aHasB) return 'ahead';
  if (bHasA) return 'behind';
  return 'diverged';
}

const mysqlOps: GtidOps = {
  flavor: 'mysql',
  normalize: (gtid) => formatMysqlGtidSet(parseMysqlGtidSet(gtid)),
  isEmpty: (gtid) => parseMysqlGtidSet(gtid).entries.length === 0,
  compare(a, b) {
    const sa = parseMysqlGtidSet(a);
    const sb = parseMysqlGtidSet(b);
    return relationOfSets(mysqlGtidIsSubset(sb, sa), mysqlGtidIsSubset(sa, sb));
  },
  contains: (a, b) => mysqlGtidIsSubset(parseMysqlGtidSet(b), parseMysqlGtidSet(a)),
  isCaughtUp: (target, primary) => mysqlGtidIsSubset(parseMysqlGtidSet(primary), parseMysqlGtidSet(target)),
  missing: (target, primary) =>
    formatMysqlGtidSet(mysqlGtidSubtract(parseMysqlGtidSet(primary), parseMysqlGtidSet(target))),
  errant(replica, primary, options) {
    const all = mysqlGtidSubtract(parseMysqlGtidSet(replica), parseMysqlGtidSet(primary));
    const own = options?.exceptOrigin?.serverUuid?.toLowerCase();
    const set = own ? { entries: all.entries.filter((e) => e.uuid !== own) } : all;
    const gtidSet = formatMysqlGtidSet(set);
    const count = mysqlGtidCount(set);
    const summary =
      count === 0
        ? 'no errant transactions'
        : `${count} errant transaction${count === 1 ? '' : 's'} not on the primary: ${gtidSet}`;
    return { flavor: 'mysql', errant: count > 0, gtidSet, count, summary };
  },
  score: (gtid) => [mysqlGtidCount(parseMysqlGtidSet(gtid)), 0],
  rank: (nodes) => rankWith(nodes, mysqlOps.compare, mysqlOps.score),
};

const mariadbOps: GtidOps = {
  flavor: 'mariadb',
  normalize: (gtid) => formatMariadbGtidList(parseMariadbGtidPos(gtid)),
  isEmpty: (gtid) => parseMariadbGtidPos(gtid).length === 0,
  compare: (a, b) => compareMariadbPos(parseMariadbGtidPos(a), parseMariadbGtidPos(b)).relation,
  contains(a, b) {
    const r = mariadbOps.compare(a, b);
    return r === 'equal' || r === 'ahead';
  },
  isCaughtUp: (target, primary) => mariadbOps.missing(target, primary) === '',
  missing: (target, primary) =>
    formatMariadbGtidList(mariadbPosMissing(parseMariadbGtidPos(target), parseMariadbGtidPos(primary))),
  errant(replica, primary, options) {
    const own = options?.exceptOrigin?.serverId;
    const entries = mariadbErrant(parseMariadbGtidState(replica), parseMariadbGtidState(primary)).filter(
      (e) => e.serverId !== own,
    );
    const summary =
      entries.length === 0
        ? 'no errant transactions'
        : `errant transactions not on the primary: ${entries.map(describeErrant).join(', ')}`;
    return { flavor: 'mariadb', errant: entries.length > 0, entries, summary };
  },
  score(gtid) {
    const pos = parseMariadbGtidPos(gtid);
    return [pos.reduce((sum, g) => sum + g.seq, 0), pos.length];
  },
  rank: (nodes) => rankWith(nodes, mariadbOps.compare, mariadbOps.score),
};

function describeErrant(e: MariadbErrantEntry): string {
  const gtid = formatGtid({ domain: e.domain, serverId: e.serverId, seq: e.replicaSeq });
  return e.primarySeq === null
    ? `${gtid} (primary has nothing from server ${e.serverId} in domain ${e.domain})`
    : `${gtid} (primary has up to ${e.domain}-${e.serverId}-${e.primarySeq})`;
}
