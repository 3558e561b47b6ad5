// MariaDB GTID lists: `domain-server_id-seq_no` entries separated by ',' as SHOW and SELECT print
// them. A position (@@gtid_current_pos, @@gtid_slave_pos, @@gtid_binlog_pos) has one entry per
// replication domain; a binlog state (@@gtid_binlog_state) has one per domain and server_id.
// Within a domain, seq_no grows across servers, so positions compare domain by domain on seq_no.
import { GtidParseError } from './errors';
import type { GtidRelation } from './relation';

export interface MariadbGtid {
  readonly domain: number;
  readonly serverId: number;
  readonly seq: number;
}

/** 'position': one entry per domain; 'state': one entry per domain + server_id. */
export type MariadbGtidKind = 'position' | 'state';

const MAX_U32 = 4294967295;
const DIGITS = /[0-9]+/y;

/**
 * Parses a position or a binlog state; '' is empty; whitespace is allowed between tokens.
 * The result is sorted by domain (then server_id). Throws GtidParseError naming the entry at fault,
 * including for a domain (position) or domain+server (state) listed twice.
 */
export function parseMariadbGtidList(text: string, kind: MariadbGtidKind): MariadbGtid[] {
  const what = kind === 'position' ? 'MariaDB GTID position' : 'MariaDB GTID binlog state';
  let pos = 0;
  const fail = (reason: string, at = pos): never => {
    throw new GtidParseError(text, at, reason, what);
  };
  const skipSpace = () => {
    while (pos < text.length && /\s/.test(text[pos])) pos++;
  };
  const shown = () => (pos < text.length ? `"${text[pos]}"` : 'the end');
  const number = (name: string, max: number): number => {
    DIGITS.lastIndex = pos;
    const m = DIGITS.exec(text);
    if (!m) return fail(`expected ${name} (digits), found ${shown()}`);
    const n = Number(m[0]);
    if (!Number.isSafeInteger(n) || n > max)
      return fail(`${name} ${m[0]} is larger than ${max === MAX_U32 ? '2^32-1' : '2^53-1'}`);
    pos += m[0].length;
    skipSpace();
    return n;
  };
  const dash = (after: string) => {
    if (text[pos] !== '-') fail(`expected "-" after the ${after}, found ${shown()}`);
    pos++;
    skipSpace();
  };

  const entries: { gtid: MariadbGtid; at: number }[] = [];
  skipSpace();
  while (pos < text.length) {
    const at = pos;
    const domain = number('domain id', MAX_U32);
    dash('domain id');
    const serverId = number('server id', MAX_U32);
    dash('server id');
    const seq = number('sequence number', Number.MAX_SAFE_INTEGER);
    entries.push({ gtid: { domain, serverId, seq }, at });
    if (pos >= text.length) break;
    if (text[pos] !== ',') fail(`expected "," or the end, found ${shown()}`);
    pos++;
    skipSpace();
    if (pos >= text.length) fail('expected a GTID domain-server-seq after ",", found the end');
  }

  const seen = new Map<string, MariadbGtid>();
  for (const { gtid, at } of entries) {
    const key = kind === 'position' ? `${gtid.domain}` : `${gtid.domain}-${gtid.serverId}`;
    const before = seen.get(key);
    if (before) {
      fail(
        kind === 'position'
          ? `domain ${gtid.domain} appears twice (${formatGtid(before)} and ${formatGtid(gtid)}): ` +
              'a position has one entry per domain (is this @@gtid_binlog_state?)'
          : `domain ${gtid.domain} server ${gtid.serverId} appears twice (${formatGtid(before)} and ${formatGtid(gtid)})`,
        at,
      );
    }
    seen.set(key, gtid);
  }
  return sortGtids(entries.map((e) => e.gtid));
}

export function parseMariadbGtidPos(text: string): MariadbGtid[] {
  return parseMariadbGtidList(text, 'position');
}

export function parseMariadbGtidState(text: string): MariadbGtid[] {
  return parseMariadbGtidList(text, 'state');
}

function sortGtids(list: readonly MariadbGtid[]): MariadbGtid[] {
  return [...list].sort((a, b) => a.domain - b.domain || a.serverId - b.serverId || a.seq - b.seq);
}

export function formatGtid(g: MariadbGtid): string {
  return `${g.domain}-${g.serverId}-${g.seq}`;
}

/** Canonical text: sorted by domain then server_id, ',' without spaces, as MariaDB prints it. */
export function formatMariadbGtidList(list: readonly MariadbGtid[]): string {
  return sortGtids(list).map(formatGtid).join(',');
}

export function normalizeMariadbGtidList(text: string, kind: MariadbGtidKind): string {
  return formatMariadbGtidList(parseMariadbGtidList(text, kind));
}

/**
 * The position a binlog state amounts to: per domain, the entry with the highest seq_no
 * (what @@gtid_binlog_pos shows when seq_no only grows; ties go to the higher server_id).
 */
export function mariadbStateToPos(state: readonly MariadbGtid[]): MariadbGtid[] {
  const best = new Map<number, MariadbGtid>();
  for (const g of state) {
    const b = best.get(g.domain);
    if (!b || g.seq > b.seq || (g.seq === b.seq && g.serverId > b.serverId)) best.set(g.domain, g);
  }
  return sortGtids([...best.values()]);
}

/**
 * A binlog state cut back to a position: what a server's state was when it had applied exactly
 * `pos` (entries past it dropped, the position's own GTIDs added). Rejoining a failed primary at
 * the position its successor continued from keeps the history of every other server, so its
 * binlog state does not make the others look errant.
 */
export function mariadbStateUpTo(state: readonly MariadbGtid[], pos: readonly MariadbGtid[]): MariadbGtid[] {
  const limit = new Map(pos.map((g) => [g.domain, g]));
  const kept = state.filter((g) => {
    const at = limit.get(g.domain);
    return at !== undefined && g.seq <= at.seq && !(g.serverId === at.serverId);
  });
  return sortGtids([...kept, ...pos]);
}

export interface MariadbDomainComparison {
  readonly domain: number;
  readonly a: MariadbGtid | null;
  readonly b: MariadbGtid | null;
  /** `a` relative to `b` in this domain. */
  readonly relation: GtidRelation;
}

export interface MariadbPosComparison {
  /** `a` relative to `b` over all domains. */
  readonly relation: GtidRelation;
  /** Every domain of either position, sorted. */
  readonly domains: readonly MariadbDomainComparison[];
}

/**
 * Compares two positions domain by domain. A domain only one side has counts as ahead for that
 * side. The same seq_no from two different server_ids means the histories split: diverged.
 */
export function compareMariadbPos(
  a: readonly MariadbGtid[],
  b: readonly MariadbGtid[],
): MariadbPosComparison {
  const ofA = byDomain(a);
  const ofB = byDomain(b);
  const ids = [...new Set([...ofA.keys(), ...ofB.keys()])].sort((x, y) => x - y);
  const domains = ids.map((domain): MariadbDomainComparison => {
    const ga = ofA.get(domain) ?? null;
    const gb = ofB.get(domain) ?? null;
    return { domain, a: ga, b: gb, relation: domainRelation(ga, gb) };
  });
  const seen = new Set(domains.map((d) => d.relation));
  let relation: GtidRelation = 'equal';
  if (seen.has('diverged') || (seen.has('ahead') && seen.has('behind'))) relation = 'diverged';
  else if (seen.has('ahead')) relation = 'ahead';
  else if (seen.has('behind')) relation = 'behind';
  return { relation, domains };
}

function byDomain(list: readonly MariadbGtid[]): Map<number, MariadbGtid> {
  const map = new Map<number, MariadbGtid>();
  for (const g of list) {
    if (map.has(g.domain))
      throw new Error(
        `MariaDB position lists domain ${g.domain} twice: compare positions, not binlog states`,
      );
    map.set(g.domain, g);
  }
  return map;
}

function domainRelation(a: MariadbGtid | null, b: MariadbGtid | null): GtidRelation {
  if (!a) return b ? 'behind' : 'equal';
  if (!b) return 'ahead';
  if (a.seq > b.seq) return 'ahead';
  if (a.seq < b.seq) return 'behind';
  return a.serverId === b.serverId ? 'equal' : 'diverged';
}

/** Whether position `a` has reached position `b` in every domain of `b`. */
export function mariadbPosContains(a: readonly MariadbGtid[], b: readonly MariadbGtid[]): boolean {
  const r = compareMariadbPos(a, b).relation;
  return r === 'equal' || r === 'ahead';
}

/** The entries of `primary` that `target` has not reached (what MASTER_GTID_WAIT would wait for). */
export function mariadbPosMissing(
  target: readonly MariadbGtid[],
  primary: readonly MariadbGtid[],
): MariadbGtid[] {
  return compareMariadbPos(target, primary)
    .domains.filter((d) => d.b !== null && (d.relation === 'behind' || d.relation === 'diverged'))
    .map((d) => d.b as MariadbGtid);
}

export interface MariadbErrantEntry {
  readonly domain: number;
  readonly serverId: number;
  readonly replicaSeq: number;
  /** The primary's seq_no for this domain+server, or null when it has none. */
  readonly primarySeq: number | null;
}

/**
 * Errant transactions of a replica: entries of its @@gtid_binlog_state that the primary's
 * @@gtid_binlog_state lacks (no entry for that domain+server, or a lower seq_no).
 */
export function mariadbErrant(
  replicaState: readonly MariadbGtid[],
  primaryState: readonly MariadbGtid[],
): MariadbErrantEntry[] {
  const primary = new Map(primaryState.map((g) => [`${g.domain}-${g.serverId}`, g.seq]));
  const out: MariadbErrantEntry[] = [];
  for (const g of sortGtids(replicaState)) {
    const primarySeq = primary.get(`${g.domain}-${g.serverId}`) ?? null;
    if (primarySeq === null || g.seq > primarySeq)
      out.push({ domain: g.domain, serverId: g.serverId, replicaSeq: g.seq, primarySeq });
  }
  return out;
}
