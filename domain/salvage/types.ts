// What a salvage read yields. Plain JSON throughout: a read's result goes into workflow history,
// and the applier may run in a later activity than the read.
import type { Flavor } from '../inventory';

export interface BinlogTransaction {
  /** MariaDB `domain-server-seq`; MySQL `uuid:n` (`uuid:tag:n` on 8.4); null when it has none. */
  readonly gtid: string | null;
  /** Which of the files read it came from (0 is the first one). */
  readonly file: number;
  /** Offset of its first event in that file (the `# at` before its GTID event). */
  readonly position: number;
  /** Ends with its COMMIT, Xid or XA PREPARE, or is one statement that commits by itself (DDL). */
  readonly complete: boolean;
  /**
   * Why replaying it as SQL would not make the same transaction, or null. MariaDB's CREATE ...
   * SELECT is one GTID holding a CREATE and row events: replayed, the CREATE commits by itself
   * under that GTID and the rows take the next free one (seen live on 10.11).
   */
  readonly unreplayable: string | null;
  /**
   * The statements that replay it, without delimiters, to be sent one by one on one session:
   * the format description of its file (BINLOG row events need it), the session settings in force
   * when it started (the tool prints them only when they change), the statement that sets its
   * GTID, then its own statements.
   */
  readonly statements: readonly string[];
}

export interface ParsedBinlog {
  readonly flavor: Flavor;
  /**
   * Complete transactions in log order, up to the first cut one: the only ones ever applied,
   * since applying a later one without an earlier one would reorder history.
   */
  readonly transactions: readonly BinlogTransaction[];
  /** transactions.length */
  readonly complete: number;
  /** Transactions whose end is missing: torn by the crash, or the output was cut short. */
  readonly cut: number;
  /** Their GTIDs (null when the GTID itself was not read), for the report. */
  readonly cutGtids: readonly (string | null)[];
  /** Complete transactions after a cut one (only possible in a damaged log): not returned. */
  readonly afterCut: number;
  /**
   * The GTID state each file starts from (MariaDB `Gtid list`, a binlog state; MySQL
   * `Previous-GTIDs`), per file read; null when the tool printed none for that file.
   */
  readonly fileStarts: readonly (string | null)[];
  /** Statements the tool prints once for the whole session (PSEUDO_SLAVE_MODE, COMPLETION_TYPE). */
  readonly sessionPrelude: readonly string[];
  /** What did not look like the tool's usual output (never silently dropped). */
  readonly problems: readonly string[];
}
