// Splits the text that mariadb-binlog / mysqlbinlog print into events: a header comment line
// ("#261205 22:50:53 server id 1  end_log_pos 866 CRC32 0x... \tXid = 7") and the statements
// printed after it. The tools end every statement with the delimiter `/*!*/;` and never escape
// what a statement contains, so a string literal in a DDL may itself hold a line "/*!*/;" or
// "# at 4" (seen live on 10.11). Two rules keep such a statement whole:
// - "# at N" starts a new event only when N is not below the end of the events already read in
//   this file (offsets only grow within a file, so an older offset is text, not structure), or
//   when it is "# at 4" right before a file's first event (its format description);
// - a statement over several lines runs to the LAST delimiter line before the next event: the
//   generated session statements before it are always one line each.
// A statement that still breaks these rules fails to replay with a syntax error: loud, never a
// silent change of data.

const DELIMITER = '/*!*/;';
const HEADER =
  /^#\d{6}\s+\d{1,2}:\d{2}:\d{2}\s+server id\s+(\d+)\s+end_log_pos\s+(\d+)\s*(?:CRC32\s+0x[0-9a-fA-F]+)?\s*(.*)$/;
const AT = /^# at (\d+)\s*$/;
// mysqlbinlog's own last statement, printed after the last event of its output.
const MYSQL_TRAILER = /^SET @@SESSION\.GTID_NEXT= 'AUTOMATIC' \/\* added by mysqlbinlog \*\/ \/\*!\*\/;$/;

export interface BinlogEvent {
  /** Offset of the event in its file (its "# at"); -1 when none was printed. */
  readonly at: number;
  readonly serverId: number;
  readonly endLogPos: number;
  /** The header after the checksum: "GTID 0-1-3 trans", "Query\tthread_id=6\t...", "Xid = 7". */
  readonly type: string;
  /** Statements of its body, without the delimiter. */
  readonly statements: readonly string[];
  /** Comment lines of its body, as printed. */
  readonly comments: readonly string[];
  /** The body stopped inside a statement: the output ends there (torn log, cut output). */
  readonly unterminated: boolean;
  /**
   * Its last statement was printed as a query is ("text" then a line "/*!*\/;"), not as the
   * one-line settings the tools generate before it: a Query event cut after those settings has
   * not printed its query.
   */
  readonly endsWithQuery: boolean;
}

export interface LexedBinlog {
  /** Statements before the first `DELIMITER /*!*\/;` (PSEUDO_SLAVE_MODE and the like). */
  readonly prelude: readonly string[];
  readonly events: readonly BinlogEvent[];
  readonly problems: readonly string[];
}

interface Pending {
  at: number;
  serverId: number;
  endLogPos: number;
  type: string;
  lines: string[];
}

export function lexBinlog(text: string): LexedBinlog {
  const prelude: string[] = [];
  const events: BinlogEvent[] = [];
  const problems: string[] = [];
  let inBlock = false;
  let seenBlock = false;
  let fileEnd = 0;
  const offsets: number[] = [];
  let current: Pending | null = null;
  let orphan: string[] = [];

  const flush = () => {
    if (current) events.push({ ...current, ...splitBody(current.lines) });
    else if (orphan.some((l) => l.trim() !== '' && !l.startsWith('#')))
      problems.push(`text before any event header: ${shorten(orphan.join('\n'))}`);
    current = null;
    orphan = [];
  };

  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!inBlock) {
      if (line === 'DELIMITER /*!*/;') {
        inBlock = true;
        seenBlock = true;
        fileEnd = 0;
      } else if (!seenBlock && line.trim() !== '' && !line.startsWith('#')) {
        prelude.push(line.replace(/;\s*$/, ''));
      }
      continue;
    }
    if (line === 'DELIMITER ;' || MYSQL_TRAILER.test(line)) {
      flush();
      if (line === 'DELIMITER ;') {
        inBlock = false;
        offsets.length = 0;
      }
      continue;
    }
    const at = AT.exec(line);
    // The next file starts (mysqlbinlog prints no DELIMITER between files): offsets start over.
    if (at && Number(at[1]) === 4 && HEADER.exec(lines[i + 1] ?? '')?.[3].startsWith('Start:')) fileEnd = 0;
    if (at && Number(at[1]) >= fileEnd) {
      flush();
      offsets.push(Number(at[1]));
      continue;
    }
    const header = HEADER.exec(line);
    if (header) {
      flush();
      const endLogPos = Number(header[2]);
      fileEnd = Math.max(fileEnd, endLogPos);
      current = {
        at: offsets.shift() ?? -1,
        serverId: Number(header[1]),
        endLogPos,
        type: header[3].trim(),
        lines: [],
      };
      continue;
    }
    (current ? current.lines : orphan).push(line);
  }
  flush();
  return { prelude, events, problems };
}

function splitBody(lines: readonly string[]): {
  statements: string[];
  comments: string[];
  unterminated: boolean;
  endsWithQuery: boolean;
} {
  const statements: string[] = [];
  const comments: string[] = [];
  let unterminated = false;
  let endsWithQuery = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      comments.push(line);
      continue;
    }
    if (line.endsWith(DELIMITER)) {
      statements.push(line.slice(0, -DELIMITER.length));
      endsWithQuery = false;
      continue;
    }
    let last = lines.length - 1;
    while (last > i && !lines[last].endsWith(DELIMITER)) last--;
    const rest = lines.slice(last + 1);
    if (last === i || rest.some((l) => l.trim() !== '' && !l.startsWith('#'))) {
      unterminated = true;
      break;
    }
    const joined = lines.slice(i, last + 1).join('\n');
    statements.push(joined.slice(0, -DELIMITER.length).replace(/\n$/, ''));
    comments.push(...rest.filter((l) => l.startsWith('#')));
    endsWithQuery = lines[last] === DELIMITER;
    break;
  }
  return { statements, comments, unterminated, endsWithQuery };
}

export function shorten(text: string, max = 120): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
