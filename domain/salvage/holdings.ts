// One GTID of a log, and what a server has, in the terms selection needs: a stream (MariaDB
// domain, MySQL uuid[:tag]) whose transactions are numbered, and whether a server has one. The
// GTID arithmetic itself is domain/gtid's.
import {
  mariadbStateToPos,
  mysqlGtidIsSubset,
  mysqlGtidSubtract,
  formatMysqlGtidSet,
  parseMariadbGtidPos,
  parseMariadbGtidState,
  parseMysqlGtidSet,
  formatGtid,
  type MariadbGtid,
  type MysqlGtidSet,
} from '../gtid';
import type { Flavor } from '../inventory';

export interface GtidKey {
  readonly text: string;
  /** MariaDB domain id, MySQL "uuid:tag" (tag '' when untagged). */
  readonly stream: string;
  /** MariaDB seq_no, MySQL transaction number. */
  readonly n: number;
  /** MariaDB server_id; null on MySQL. */
  readonly serverId: number | null;
}

/** Throws GtidParseError when `gtid` is not exactly one GTID. */
export function gtidKey(flavor: Flavor, gtid: string): GtidKey {
  if (flavor === 'mariadb') {
    const list = parseMariadbGtidPos(gtid);
    if (list.length !== 1) throw new Error(`expected one MariaDB GTID, got "${gtid}"`);
    const g = list[0];
    return { text: formatGtid(g), stream: `${g.domain}`, n: g.seq, serverId: g.serverId };
  }
  const set = parseMysqlGtidSet(gtid);
  const e = set.entries[0];
  if (set.entries.length !== 1 || e.intervals.length !== 1 || e.intervals[0][0] !== e.intervals[0][1])
    throw new Error(`expected one MySQL GTID, got "${gtid}"`);
  return {
    text: formatMysqlGtidSet(set),
    stream: `${e.uuid}:${e.tag}`,
    n: e.intervals[0][0],
    serverId: null,
  };
}

/** What a server has: a MariaDB position (one GTID per domain) or a MySQL GTID set. */
export type Holdings =
  | { readonly flavor: 'mariadb'; readonly pos: ReadonlyMap<string, MariadbGtid> }
  | { readonly flavor: 'mysql'; readonly set: MysqlGtidSet };

/**
 * MariaDB: positions merged domain by domain, keeping the higher seq_no (a candidate's binlog and
 * replica positions; what it has in a domain is the furthest of the two). MySQL: one set.
 */
export function holdingsOf(flavor: Flavor, texts: readonly string[]): Holdings {
  if (flavor === 'mysql') return { flavor, set: parseMysqlGtidSet(texts.join(',')) };
  const pos = new Map<string, MariadbGtid>();
  for (const text of texts)
    for (const g of parseMariadbGtidPos(text)) {
      const before = pos.get(`${g.domain}`);
      if (!before || g.seq > before.seq) pos.set(`${g.domain}`, g);
    }
  return { flavor, pos };
}

/** A file's starting state as printed (MariaDB `Gtid list`: a binlog state; MySQL Previous-GTIDs). */
export function fileStartHoldings(flavor: Flavor, text: string): Holdings {
  if (flavor === 'mysql') return holdingsOf(flavor, [text]);
  return holdingsOf(flavor, [mariadbStateToPos(parseMariadbGtidState(text)).map(formatGtid).join(',')]);
}

export function has(h: Holdings, k: GtidKey): boolean {
  if (h.flavor === 'mysql') return mysqlGtidIsSubset(parseMysqlGtidSet(k.text), h.set);
  const at = h.pos.get(k.stream);
  return at !== undefined && at.seq >= k.n;
}

/**
 * What `holder` lacks of `other`, as text ('' when nothing). MariaDB: per domain of `other`, its
 * GTID when the holder is behind it or reached its seq_no from another server.
 */
export function lacking(holder: Holdings, other: Holdings): string {
  if (holder.flavor === 'mysql' && other.flavor === 'mysql')
    return formatMysqlGtidSet(mysqlGtidSubtract(other.set, holder.set));
  if (holder.flavor !== 'mariadb' || other.flavor !== 'mariadb') throw new Error('flavors differ');
  const out: string[] = [];
  for (const [domain, g] of other.pos) {
    const at = holder.pos.get(domain);
    if (!at || at.seq < g.seq || (at.seq === g.seq && at.serverId !== g.serverId)) out.push(formatGtid(g));
  }
  return out.join(',');
}

/** MariaDB: the holder's GTID at exactly this seq_no in this stream, when it is there; else null. */
export function holderAt(h: Holdings, k: GtidKey): string | null {
  if (h.flavor !== 'mariadb') return null;
  const at = h.pos.get(k.stream);
  return at && at.seq === k.n ? formatGtid(at) : null;
}
