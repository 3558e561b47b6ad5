// Transactions out of the events the tools print. A transaction starts at its GTID event and is
// complete only once its end was printed: the Xid event's COMMIT, a COMMIT/ROLLBACK/XA statement
// (non-transactional tables, XA), or, for a transaction that never opened (DDL: no BEGIN), its one
// statement. A crash can tear the last event: what the tool printed of that transaction has no
// end, and it is counted as cut, never returned for applying.
import type { Flavor } from '../inventory';
import { type BinlogEvent, lexBinlog, shorten } from './events';
import {
  endsTransaction,
  isClientCommand,
  isMariadbGtidStatement,
  mariadbGtidStatements,
  mysqlGtidNext,
  opensTransaction,
  SessionContext,
} from './statements';
import type { BinlogTransaction, ParsedBinlog } from './types';

const MARIADB_GTID = /^GTID (\d+)-(\d+)-(\d+)\b/;
// MySQL: "GTID\tlast_committed=..." and "Anonymous_GTID\t..." (case matters: MariaDB prints "Gtid list").
const MYSQL_GTID = /^(?:Anonymous_)?GTID(?:\s|_|$)/;
const MARIADB_FILE_START = /^Gtid list \[([^\]]*)\]/;

interface Open {
  gtid: string | null;
  identity: string[];
  file: number;
  position: number;
  carried: string[];
  own: string[];
  /** A BEGIN was printed: only an explicit end completes it. */
  multi: boolean;
  /** A statement of it was cut off. */
  broken: boolean;
  /** MariaDB's GTID event says "ddl". */
  ddl: boolean;
}

/** Parses the text output of mariadb-binlog (MariaDB) or mysqlbinlog (MySQL 8) over one or more files. */
export function parseBinlogText(flavor: Flavor, text: string): ParsedBinlog {
  const lexed = lexBinlog(text);
  const problems = [...lexed.problems];
  const context = new SessionContext();
  const fileStarts: (string | null)[] = [];
  const transactions: BinlogTransaction[] = [];
  const cutGtids: (string | null)[] = [];
  let afterCut = 0;
  let file = -1;
  let formatDescription: string | null = null;
  let open: Open | null = null;

  const close = (complete: boolean) => {
    const t = open as Open;
    open = null;
    if (!complete) {
      cutGtids.push(t.gtid);
      return;
    }
    if (cutGtids.length > 0) {
      afterCut++;
      return;
    }
    transactions.push({
      gtid: t.gtid,
      file: t.file,
      position: t.position,
      complete: true,
      unreplayable:
        t.ddl && t.multi
          ? 'a DDL with row events in one transaction (CREATE ... SELECT): replayed, the DDL commits on its own'
          : null,
      statements: [...t.carried, ...t.identity, ...t.own],
    });
  };

  for (const ev of lexed.events) {
    if (ev.type.startsWith('Start:')) {
      if (open) close(false);
      file++;
      fileStarts.push(null);
      // The tool prints the file's format description as a BINLOG statement; row events replayed
      // with BINLOG are refused without it.
      formatDescription = ev.statements.find((s) => /^BINLOG\s/.test(s)) ?? null;
      continue;
    }
    const start = fileStartOf(flavor, ev);
    if (start !== undefined) {
      if (file < 0) file = 0;
      fileStarts[file] = start;
      continue;
    }
    const gtid = flavor === 'mariadb' ? MARIADB_GTID.exec(ev.type) : MYSQL_GTID.exec(ev.type);
    if (gtid) {
      if (open) close(false);
      const identity =
        flavor === 'mariadb' ? mariadbGtidStatements(Number(gtid[1]), Number(gtid[2]), Number(gtid[3])) : [];
      open = {
        gtid: flavor === 'mariadb' ? `${gtid[1]}-${gtid[2]}-${gtid[3]}` : null,
        identity,
        file: Math.max(file, 0),
        position: ev.at,
        carried: [...(formatDescription ? [formatDescription] : []), ...context.snapshot()],
        own: [],
        multi: false,
        broken: false,
        ddl: flavor === 'mariadb' && /\bddl\b/.test(ev.type),
      };
    }
    if (!open) {
      for (const s of ev.statements)
        if (!context.observe(s) && !isClientCommand(s))
          problems.push(`statement outside any transaction (${ev.type.split('\t')[0]}): ${shorten(s)}`);
      continue;
    }
    if (feed(flavor, open, ev, context, problems)) close(!(open as Open).broken);
  }
  if (open) close(false);
  return {
    flavor,
    transactions,
    complete: transactions.length,
    cut: cutGtids.length,
    cutGtids,
    afterCut,
    fileStarts,
    sessionPrelude: lexed.prelude,
    problems,
  };
}

/** Adds an event to the open transaction; true when the event ends it. */
function feed(
  flavor: Flavor,
  t: Open,
  ev: BinlogEvent,
  context: SessionContext,
  problems: string[],
): boolean {
  for (const s of ev.statements) {
    if (isClientCommand(s)) continue;
    if (flavor === 'mariadb' && isMariadbGtidStatement(s)) continue;
    const next = flavor === 'mysql' ? mysqlGtidNext(s) : null;
    if (next !== null) {
      t.gtid = /^(ANONYMOUS|AUTOMATIC)$/i.test(next) ? null : next;
      if (t.gtid === null) problems.push(`transaction at ${t.position} has no GTID (GTID_NEXT='${next}')`);
    }
    context.observe(s);
    if (opensTransaction(s)) t.multi = true;
    t.own.push(s);
  }
  if (ev.unterminated) {
    t.broken = true;
    return false;
  }
  const last = ev.statements.at(-1);
  if (last === undefined) return false;
  // The Xid event prints its COMMIT on one line; any other end is a query printed in full.
  if (/^Xid = /.test(ev.type)) return endsTransaction(last);
  if (!ev.endsWithQuery) return false;
  if (endsTransaction(last)) return true;
  // A Query event of a transaction that never opened is the whole transaction (DDL).
  return /^Query(_compressed)?\b/.test(ev.type) && !t.multi;
}

/** The GTID state a file starts from, when the event says it; undefined for any other event. */
function fileStartOf(flavor: Flavor, ev: BinlogEvent): string | undefined {
  if (flavor === 'mariadb') {
    const m = MARIADB_FILE_START.exec(ev.type);
    return m ? m[1].trim() : undefined;
  }
  if (!ev.type.startsWith('Previous-GTIDs')) return undefined;
  // Printed as comment lines: "# uuid:1-5," then "# uuid2:1-3", or "# [empty]".
  const set = ev.comments.map((c) => c.replace(/^#\s?/, '').trim()).join('');
  return set === '[empty]' ? '' : set;
}
