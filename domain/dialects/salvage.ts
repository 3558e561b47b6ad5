// Salvaging a crashed primary's binary log over SSH: the commands that list its files and print
// the transactions after a GTID position as SQL, per flavor. Pure like the rest of the dialect:
// commands are argv arrays (the activity quotes every word for the shell), and reading the tools'
// exit status and messages is here too, since the messages are the tool's.
import { checkPath } from './backup';

export interface SalvageReadOutcome {
  /**
   * - complete: the output holds every file to its end (a torn last event included, see `torn`);
   * - partial: the tool stopped at an unreadable event: what it printed before is sound, later
   *   transactions were not read;
   * - missing-history: the files given start after the start position (read older ones too);
   * - failed: nothing usable (a file missing, not a binary log).
   */
  readonly kind: 'complete' | 'partial' | 'missing-history' | 'failed';
  /** The tool reported an event cut short: the crash tore the end of the log. */
  readonly torn: boolean;
  /** The tool's own warning and error lines. */
  readonly messages: readonly string[];
}

export interface SalvageDialect {
  /** The program run on the failed primary's host. */
  readonly tool: string;
  /** argv printing the binary log index, `<log_bin_basename>.index`: the files, oldest first. */
  listFiles(binlogBasename: string): string[];
  /** argv listing the index files of a datadir, when log_bin_basename is not known. */
  findIndexes(datadir: string): string[];
  /**
   * argv printing, as SQL, the transactions of `files` (in order) after `position` (MariaDB: a
   * GTID position; MySQL: a GTID set to leave out); '' prints them all.
   */
  printTransactions(files: readonly string[], position: string): string[];
  /** What the tool's exit status and stderr say about its output. */
  readOutcome(code: number | null, stderr: string): SalvageReadOutcome;
  /**
   * A query whose one row's `gtid` column is the GTID the session wrote last, to check each
   * applied transaction was written under its own GTID; null when the flavor has none.
   */
  lastWrittenGtid(): string | null;
  /** After a transaction failed part way: nothing of it stays, and its GTID is not reused. */
  abandonTransaction(): string[];
  /**
   * After applying: the session writes under its own server's identity again (the replayed
   * statements set another server's id and a fixed TIMESTAMP for the session). Best effort: the
   * applier's connection should be destroyed afterwards, not returned to a pool.
   */
  resetSession(): string[];
}

export function listFilesCommand(binlogBasename: string): string[] {
  return ['cat', '--', `${checkPath(binlogBasename, 'binary log basename')}.index`];
}

export function findIndexesCommand(datadir: string): string[] {
  return ['find', checkPath(datadir, 'datadir'), '-maxdepth', '1', '-type', 'f', '-name', '*.index'];
}

/**
 * The binary log index among a datadir's index files (relay logs have one too); null when there
 * is none, or several and the choice would be a guess.
 */
export function chooseBinlogIndex(listing: string): string | null {
  const found = listing
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.endsWith('.index') && !/relay/i.test(l.slice(l.lastIndexOf('/') + 1)));
  return found.length === 1 ? found[0] : null;
}

/** `<basename>` of an index path, for listFiles. */
export function basenameOfIndex(indexPath: string): string {
  return indexPath.replace(/\.index$/, '');
}

/**
 * The files an index names, oldest first, as absolute paths: the server writes them relative to
 * its datadir ("./mysql-bin.000001") unless log_bin was given as an absolute path.
 */
export function parseBinlogIndex(text: string, datadir: string): string[] {
  const dir = checkPath(datadir, 'datadir');
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .map((l) => (l.startsWith('/') ? l : `${dir}/${l.replace(/^(\.\/)+/, '')}`))
    .map((p) => checkPath(p, 'binary log file'));
}

/** The tool's lines that are warnings or errors (it prints nothing else on stderr). */
export function messageLines(stderr: string): string[] {
  return stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}
