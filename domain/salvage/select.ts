// Which salvaged transactions a candidate lacks, or why none may be applied. Applying is all or
// nothing in order: a transaction applied without one before it, or applied a second time, would
// make the candidate's history differ from the failed primary's, which no later step can see.
import { formatMariadbGtidList, normalizeMysqlGtidSet } from '../gtid';
import type { Flavor } from '../inventory';
import { lackedBeforeFiles } from './coverage';
import { gtidKey, has, holderAt, holdingsOf, lacking, type GtidKey, type Holdings } from './holdings';
import { summarizeGtids, type GtidSummary } from './summary';
import type { BinlogTransaction, ParsedBinlog } from './types';

/** A candidate's GTID state as its server prints it. */
export type CandidateGtidState =
  | { readonly flavor: 'mariadb'; readonly binlogPos: string; readonly slavePos: string }
  | { readonly flavor: 'mysql'; readonly gtidExecuted: string };

export type SalvageRefusalReason =
  /** A transaction without a GTID (MySQL ANONYMOUS), or one that cannot be read. */
  | 'no-gtid'
  /** One GTID twice in the log. */
  | 'duplicate'
  /** A MariaDB domain whose seq_no goes down in the log, or a candidate that has a later one but not an earlier one. */
  | 'out-of-order'
  /** The candidate has the same seq_no from another server: the histories split. */
  | 'diverged'
  /** The candidate already has some of the transactions after the read's start. */
  | 'already-applied'
  /** The candidate lacks transactions older than what was read (purged, or the read started too late). */
  | 'not-in-binlog'
  /** A GTID position that cannot be parsed, or of another flavor. */
  | 'unreadable-position'
  /** Statement text that was not valid UTF-8 (U+FFFD in it): replaying it would change data. */
  | 'undecodable-text';

export type SalvageSelection =
  | {
      readonly ok: true;
      /** In log order. */
      readonly apply: readonly BinlogTransaction[];
      /** Read but already on the candidate (before its position; none when readFrom is given). */
      readonly alreadyPresent: number;
      /** False when the first file's starting state was not printed (coverage unchecked). */
      readonly coverageChecked: boolean;
      readonly summary: GtidSummary;
      /**
       * Lacked but not applied: from the first transaction that cannot be replayed as SQL on (its
       * successors cannot go before it). What the report lists as not salvaged.
       */
      readonly withheld: GtidSummary;
      /** Why the first withheld one cannot be replayed; null when nothing is withheld. */
      readonly withheldReason: string | null;
    }
  | {
      readonly ok: false;
      readonly reason: SalvageRefusalReason;
      readonly message: string;
      /** The GTIDs at fault, when some are. */
      readonly gtids: readonly string[];
    };

export interface SelectOptions {
  /**
   * The position the read started after (MariaDB --start-position, MySQL --exclude-gtids). Then
   * the candidate must have everything up to it and none of what was printed after it.
   */
  readonly readFrom?: string;
}

type Read = Pick<ParsedBinlog, 'flavor' | 'transactions' | 'fileStarts'>;

const refuse = (reason: SalvageRefusalReason, message: string, gtids: readonly string[] = []) =>
  ({ ok: false, reason, message, gtids }) as const;

export function selectSalvage(
  read: Read,
  candidate: CandidateGtidState,
  options: SelectOptions = {},
): SalvageSelection {
  const flavor: Flavor = read.flavor;
  if (candidate.flavor !== flavor)
    return refuse('unreadable-position', `a ${candidate.flavor} candidate for a ${flavor} binary log`);
  let holdings: Holdings;
  let start: Holdings | null;
  try {
    holdings = holdingsOf(
      flavor,
      candidate.flavor === 'mysql' ? [candidate.gtidExecuted] : [candidate.binlogPos, candidate.slavePos],
    );
    start = options.readFrom === undefined ? null : holdingsOf(flavor, [options.readFrom]);
  } catch (e) {
    return refuse('unreadable-position', (e as Error).message);
  }

  const keyed: { t: BinlogTransaction; k: GtidKey }[] = [];
  for (const t of read.transactions) {
    if (t.gtid === null)
      return refuse('no-gtid', `the transaction at ${t.position} of file ${t.file} has no GTID`);
    try {
      keyed.push({ t, k: gtidKey(flavor, t.gtid) });
    } catch (e) {
      return refuse('no-gtid', `unreadable GTID "${t.gtid}": ${(e as Error).message}`, [t.gtid]);
    }
  }
  const order = checkOrder(flavor, keyed);
  if (order) return order;
  const undecodable = keyed.filter(({ t }) => t.statements.some((s) => s.includes('\uFFFD')));
  if (undecodable.length > 0)
    return refuse(
      'undecodable-text',
      'statement text that was not valid UTF-8 cannot be replayed as it was written',
      undecodable.map(({ k }) => k.text),
    );

  const coverage = checkCoverage(read, holdings, start);
  if (typeof coverage !== 'boolean') return coverage;

  const after = start ? keyed.filter(({ k }) => !has(start, k)) : keyed;
  const present = after.filter(({ k }) => has(holdings, k));
  if (start && present.length > 0)
    return refuse(
      'already-applied',
      `the candidate already has ${present.length} of the transactions read after ${options.readFrom}: it changed since the read`,
      present.map(({ k }) => k.text),
    );
  const gap = firstGap(after, holdings);
  if (gap) return gap;
  const lacked = after.filter(({ k }) => !has(holdings, k)).map(({ t }) => t);
  const stop = lacked.findIndex((t) => t.unreplayable !== null);
  const apply = stop < 0 ? lacked : lacked.slice(0, stop);
  const withheld = stop < 0 ? [] : lacked.slice(stop);
  const gtidsOf = (list: readonly BinlogTransaction[]) => list.map((t) => t.gtid as string);
  return {
    ok: true,
    apply,
    alreadyPresent: keyed.length - lacked.length,
    coverageChecked: coverage,
    summary: summarizeGtids(flavor, gtidsOf(apply)),
    withheld: summarizeGtids(flavor, gtidsOf(withheld)),
    withheldReason: stop < 0 ? null : `${lacked[stop].gtid}: ${lacked[stop].unreplayable}`,
  };
}

function checkOrder(flavor: Flavor, keyed: readonly { k: GtidKey }[]): SalvageSelection | null {
  const seen = new Set<string>();
  const last = new Map<string, GtidKey>();
  for (const { k } of keyed) {
    if (seen.has(k.text)) return refuse('duplicate', `${k.text} appears twice in the binary log`, [k.text]);
    seen.add(k.text);
    const before = last.get(k.stream);
    // MySQL numbers from one UUID may interleave (a parallel applier upstream): only MariaDB's
    // seq_no must grow, as gtid_strict_mode requires.
    if (flavor === 'mariadb' && before && k.n <= before.n)
      return refuse('out-of-order', `${k.text} follows ${before.text} in the binary log`, [
        before.text,
        k.text,
      ]);
    last.set(k.stream, k);
  }
  return null;
}

/** True when checked, false when the first file's start was not printed, or a refusal. */
function checkCoverage(read: Read, holdings: Holdings, start: Holdings | null): boolean | SalvageSelection {
  if (start) {
    const notRead = lacking(holdings, start);
    if (notRead !== '')
      return refuse(
        'not-in-binlog',
        `the read started after ${notRead}, which the candidate lacks: those transactions were not read`,
        notRead.split(','),
      );
  }
  let missing: string | null;
  try {
    missing = lackedBeforeFiles(read, holdings);
  } catch (e) {
    return refuse('unreadable-position', `the first file's starting state: ${(e as Error).message}`);
  }
  if (missing === null) return false;
  if (missing === '') return true;
  return refuse(
    'not-in-binlog',
    `the files read start after ${missing}, which the candidate lacks (purged, or older files not read)`,
    missing.split(','),
  );
}

/**
 * The candidate's transactions among those read must come first in each stream: one it has after
 * one it lacks means applying would reorder history. MariaDB: the seq_no it reached must also be
 * the one in the log (same server), or the histories split there.
 */
function firstGap(keyed: readonly { k: GtidKey }[], holdings: Holdings): SalvageSelection | null {
  const lacked = new Map<string, string>();
  for (const { k } of keyed) {
    const at = holderAt(holdings, k);
    if (at !== null && at !== k.text)
      return refuse('diverged', `the candidate has ${at} where the binary log has ${k.text}`, [at, k.text]);
    if (!has(holdings, k)) {
      if (!lacked.has(k.stream)) lacked.set(k.stream, k.text);
      continue;
    }
    const missing = lacked.get(k.stream);
    if (missing !== undefined)
      return refuse(
        'out-of-order',
        `the candidate has ${k.text} but not ${missing}, which comes before it in the binary log`,
        [missing, k.text],
      );
  }
  return null;
}

/**
 * Where to read from for this candidate, and the readFrom to select with: MariaDB its binlog and
 * replica positions merged per domain (a replica without log_slave_updates has its replicated
 * GTIDs only in the latter); MySQL its gtid_executed. Throws GtidParseError.
 */
export function salvageStartPosition(candidate: CandidateGtidState): string {
  if (candidate.flavor === 'mysql') return normalizeMysqlGtidSet(candidate.gtidExecuted);
  const h = holdingsOf('mariadb', [candidate.binlogPos, candidate.slavePos]);
  return h.flavor === 'mariadb' ? formatMariadbGtidList([...h.pos.values()]) : '';
}
