// MySQL GTID sets as in @@gtid_executed / @@gtid_purged / WAIT_FOR_EXECUTED_GTID_SET:
//   3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7-9,\n4a2b...:1-3
// and the tagged form of MySQL 8.4 (uuid:tag:1-5, or uuid:1-5:tag:1-3).
import { GtidParseError } from './errors';
import {
  countIntervals,
  formatIntervals,
  intersectIntervals,
  Interval,
  intervalsSubset,
  normalizeIntervals,
  subtractIntervals,
  unionIntervals,
} from './intervals';

/** The transactions of one source: a server UUID, optionally with a tag (MySQL 8.4). */
export interface MysqlGtidEntry {
  /** Lower case, 8-4-4-4-12 hex digits. */
  readonly uuid: string;
  /** Lower case; '' when untagged. */
  readonly tag: string;
  /** Sorted, merged, never empty. */
  readonly intervals: readonly Interval[];
}

/** A normalised GTID set: entries sorted by uuid then tag (untagged first), one per uuid+tag. */
export interface MysqlGtidSet {
  readonly entries: readonly MysqlGtidEntry[];
}

export const EMPTY_MYSQL_GTID_SET: MysqlGtidSet = { entries: [] };

const WHAT = 'GTID set';
const UUID = /[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/y;
const TAG = /[A-Za-z_][A-Za-z0-9_]*/y;
const DIGITS = /[0-9]+/y;
const MAX_TAG = 32;

/**
 * Parses a GTID set. Whitespace (newlines included) is allowed between tokens; '' is the empty set;
 * a UUID may appear several times. Throws GtidParseError naming the entry at fault.
 */
export function parseMysqlGtidSet(text: string): MysqlGtidSet {
  let pos = 0;
  const pieces = new Map<string, { uuid: string; tag: string; intervals: Interval[] }>();
  const fail = (reason: string, at = pos): never => {
    throw new GtidParseError(text, at, reason, WHAT);
  };
  const skipSpace = () => {
    while (pos < text.length && /\s/.test(text[pos])) pos++;
  };
  const match = (re: RegExp): string | null => {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) return null;
    pos += m[0].length;
    return m[0];
  };
  const shown = () => (pos < text.length ? `"${text[pos]}"` : 'the end');
  const number = (): number => {
    const at = pos;
    const digits = match(DIGITS);
    if (digits === null) return fail(`expected a transaction number, found ${shown()}`);
    const n = Number(digits);
    if (!Number.isSafeInteger(n)) return fail(`transaction number ${digits} is larger than 2^53-1`, at);
    if (n < 1) return fail('transaction numbers start at 1, found 0', at);
    return n;
  };
  const interval = (): Interval => {
    const at = pos;
    const start = number();
    skipSpace();
    if (text[pos] !== '-') return [start, start];
    pos++;
    skipSpace();
    const end = number();
    if (end < start) fail(`interval ${start}-${end} has start > end`, at);
    return [start, end];
  };
  const add = (uuid: string, tag: string, iv: Interval) => {
    const key = `${uuid}:${tag}`;
    const piece = pieces.get(key) ?? { uuid, tag, intervals: [] };
    piece.intervals.push(iv);
    pieces.set(key, piece);
  };

  skipSpace();
  while (pos < text.length) {
    const raw = match(UUID);
    if (raw === null) fail(`expected a server UUID (8-4-4-4-12 hex digits), found ${shown()}`);
    const uuid = (raw as string).toLowerCase();
    skipSpace();
    if (text[pos] !== ':') fail(`expected ":" after the UUID, found ${shown()}`);
    let tag = '';
    do {
      pos++; // the ':'
      skipSpace();
      if (/[A-Za-z_]/.test(text[pos] ?? '')) {
        const at = pos;
        tag = (match(TAG) as string).toLowerCase();
        if (tag.length > MAX_TAG) fail(`tag "${tag}" is longer than ${MAX_TAG} characters`, at);
        skipSpace();
        if (text[pos] !== ':')
          fail(`expected ":" and transaction numbers after tag "${tag}", found ${shown()}`);
        pos++;
        skipSpace();
      }
      add(uuid, tag, interval());
      skipSpace();
    } while (text[pos] === ':');
    if (pos >= text.length) break;
    if (text[pos] !== ',') fail(`expected ":", "," or the end, found ${shown()}`);
    pos++;
    skipSpace();
    if (pos >= text.length) fail('expected a server UUID after ",", found the end');
  }
  return build([...pieces.values()]);
}

function build(pieces: readonly MysqlGtidEntry[]): MysqlGtidSet {
  const entries = pieces
    .map((p) => ({ uuid: p.uuid, tag: p.tag, intervals: normalizeIntervals(p.intervals) }))
    .filter((p) => p.intervals.length > 0)
    .sort((x, y) => compareText(x.uuid, y.uuid) || compareText(x.tag, y.tag));
  return { entries };
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The canonical text: entries sorted, intervals merged, ',' between UUIDs (no newline, unlike
 * @@gtid_executed) and tags after the untagged intervals of their UUID: `uuid:1-5:tag_a:1-3`.
 */
export function formatMysqlGtidSet(set: MysqlGtidSet): string {
  const out: string[] = [];
  let last = '';
  for (const e of set.entries) {
    const piece = `${e.tag ? `${e.tag}:` : ''}${formatIntervals(e.intervals)}`;
    if (e.uuid === last) out[out.length - 1] += `:${piece}`;
    else out.push(`${e.uuid}:${piece}`);
    last = e.uuid;
  }
  return out.join(',');
}

/** Parse then format: the canonical form of a GTID set text. */
export function normalizeMysqlGtidSet(text: string): string {
  return formatMysqlGtidSet(parseMysqlGtidSet(text));
}

type Combine = (a: readonly Interval[], b: readonly Interval[]) => Interval[];

function combine(a: MysqlGtidSet, b: MysqlGtidSet, op: Combine): MysqlGtidSet {
  const keyed = new Map<string, [MysqlGtidEntry | null, MysqlGtidEntry | null]>();
  for (const e of a.entries) keyed.set(`${e.uuid}:${e.tag}`, [e, null]);
  for (const e of b.entries) {
    const key = `${e.uuid}:${e.tag}`;
    keyed.set(key, [keyed.get(key)?.[0] ?? null, e]);
  }
  const pieces: MysqlGtidEntry[] = [];
  for (const [x, y] of keyed.values()) {
    const ref = (x ?? y) as MysqlGtidEntry;
    pieces.push({ uuid: ref.uuid, tag: ref.tag, intervals: op(x?.intervals ?? [], y?.intervals ?? []) });
  }
  return build(pieces);
}

export function mysqlGtidUnion(a: MysqlGtidSet, b: MysqlGtidSet): MysqlGtidSet {
  return combine(a, b, unionIntervals);
}

/** The transactions of `a` that are not in `b` (GTID_SUBTRACT(a, b)). */
export function mysqlGtidSubtract(a: MysqlGtidSet, b: MysqlGtidSet): MysqlGtidSet {
  return combine(a, b, subtractIntervals);
}

export function mysqlGtidIntersect(a: MysqlGtidSet, b: MysqlGtidSet): MysqlGtidSet {
  return combine(a, b, intersectIntervals);
}

/** Whether every transaction of `a` is in `b` (GTID_SUBSET(a, b)). */
export function mysqlGtidIsSubset(a: MysqlGtidSet, b: MysqlGtidSet): boolean {
  const byKey = new Map(b.entries.map((e) => [`${e.uuid}:${e.tag}`, e.intervals]));
  return a.entries.every((e) => intervalsSubset(e.intervals, byKey.get(`${e.uuid}:${e.tag}`) ?? []));
}

export function mysqlGtidEquals(a: MysqlGtidSet, b: MysqlGtidSet): boolean {
  return formatMysqlGtidSet(a) === formatMysqlGtidSet(b);
}

export function mysqlGtidIsEmpty(set: MysqlGtidSet): boolean {
  return set.entries.length === 0;
}

/** Number of transactions in the set. */
export function mysqlGtidCount(set: MysqlGtidSet): number {
  return set.entries.reduce((sum, e) => sum + countIntervals(e.intervals), 0);
}
