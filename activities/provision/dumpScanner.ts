// Reads a logical dump as it streams through the worker, without keeping it: counts the rows of
// its INSERT statements and picks out the GTID position the dump carries (MariaDB prints it at
// the end, MySQL near the top). One pass, bytes only; the dump itself goes on untouched. The row
// count is a figure for reports, not a check: a routine body line starting with "INSERT INTO "
// counts too.

export interface DumpPositionSyntax {
  /** Text that starts the statement carrying the position. */
  readonly dumpPositionMarker: string;
  dumpPosition(text: string): string | null;
}

const NL = 0x0a;
const INSERT = Buffer.from('INSERT INTO ');
const SINGLE = 0x27; // '
const DOUBLE = 0x22; // "
const BACKTICK = 0x60; // `
const BACKSLASH = 0x5c;
const OPEN = 0x28;
const CLOSE = 0x29;
const SEMICOLON = 0x3b;
/** A position statement is short; a longer candidate is not one (a routine body, say). */
const MAX_STATEMENT = 1024 * 1024;

type LineKind = 'undecided' | 'insert' | 'other';

export class DumpScanner {
  rows = 0;
  bytes = 0;
  position: string | null = null;
  private kind: LineKind = 'undecided';
  private head: number[] = [];
  // Inside an INSERT line: the open quote (0 when none), a pending backslash, parenthesis depth.
  private quote = 0;
  private escaped = false;
  private depth = 0;
  // Outside: the current line, and a statement that began with the marker and has not ended yet.
  private line: Buffer[] = [];
  private lineBytes = 0;
  private candidate: string | null = null;

  constructor(private readonly syntax: DumpPositionSyntax) {}

  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    let i = 0;
    while (i < chunk.length) {
      if (this.kind === 'undecided') {
        const b = chunk[i];
        if (b === NL) {
          this.endLine(Buffer.from(this.head));
          i++;
          continue;
        }
        this.head.push(b);
        i++;
        if (this.head.length === INSERT.length || b !== INSERT[this.head.length - 1]) this.decide();
        continue;
      }
      if (this.kind === 'other') {
        const nl = chunk.indexOf(NL, i);
        const end = nl < 0 ? chunk.length : nl;
        if (this.position === null) this.keep(chunk.subarray(i, end));
        if (nl < 0) return;
        this.endLine();
        i = nl + 1;
        continue;
      }
      i = this.scanInsert(chunk, i);
    }
  }

  /** The stream ended: a last line without a newline still counts. */
  end(): void {
    if (this.kind === 'undecided' && this.head.length > 0) this.endLine(Buffer.from(this.head));
    else if (this.kind === 'other') this.endLine();
    else if (this.kind === 'insert') this.kind = 'undecided';
  }

  private decide(): void {
    const isInsert = this.head.length === INSERT.length && INSERT.equals(Buffer.from(this.head));
    this.kind = isInsert ? 'insert' : 'other';
    if (isInsert) {
      this.quote = 0;
      this.escaped = false;
      this.depth = 0;
    } else if (this.position === null) this.keep(Buffer.from(this.head));
    this.head = [];
  }

  private keep(part: Buffer): void {
    if (part.length === 0 || this.lineBytes > MAX_STATEMENT) return;
    this.line.push(Buffer.from(part));
    this.lineBytes += part.length;
  }

  /** A complete line outside INSERTs: it may start, continue or end the position statement. */
  private endLine(whole?: Buffer): void {
    this.kind = 'undecided';
    this.head = [];
    if (this.position !== null) return;
    const text = (whole ?? Buffer.concat(this.line)).toString('utf8');
    this.line = [];
    this.lineBytes = 0;
    if (this.candidate === null) {
      if (!text.includes(this.syntax.dumpPositionMarker)) return;
      this.candidate = text;
    } else this.candidate += `\n${text}`;
    const found = this.syntax.dumpPosition(this.candidate);
    if (found !== null) {
      this.position = found;
      this.candidate = null;
    } else if (/;\s*$/.test(text) || this.candidate.length > MAX_STATEMENT) this.candidate = null;
  }

  /**
   * Tuples of an extended INSERT: each "(" at depth 0 outside quotes starts a row, and ";" there
   * ends the statement (mariadb-dump 10.11 puts each tuple on a line of its own, mysqldump all on
   * one). Strings use backslash escapes and doubled quotes (a doubled quote closes and reopens:
   * same effect).
   */
  private scanInsert(chunk: Buffer, from: number): number {
    for (let i = from; i < chunk.length; i++) {
      const b = chunk[i];
      if (this.quote !== 0) {
        if (this.escaped) this.escaped = false;
        else if (b === BACKSLASH && this.quote !== BACKTICK) this.escaped = true;
        else if (b === this.quote) this.quote = 0;
        continue;
      }
      if (b === SEMICOLON && this.depth === 0) {
        // The statement ended; the rest of its line is not part of it.
        this.kind = 'other';
        return i + 1;
      }
      if (b === SINGLE || b === DOUBLE || b === BACKTICK) this.quote = b;
      else if (b === OPEN) {
        if (this.depth === 0) this.rows++;
        this.depth++;
      } else if (b === CLOSE && this.depth > 0) this.depth--;
    }
    return chunk.length;
  }
}
