// MariaDB 10.11's mariadb-binlog, read on the failed primary's host. Options checked on 10.11.19.
import { normalizeMariadbGtidList } from '../gtid';
import { checkPath } from './backup';
import {
  findIndexesCommand,
  listFilesCommand,
  messageLines,
  type SalvageDialect,
  type SalvageReadOutcome,
} from './salvage';

// stderr lines, as 10.11 prints them:
//   ERROR: Binary logs are missing data for domain 0. Expected data to start from state 0-1-4; ...
//   ERROR: Starting GTID position list does not specify an initial value for domain 0, ...
//   WARNING: Binary logs never reached expected GTID state of 0-1-22      (nothing after it: fine)
//   ERROR: Error in Log_event::read_log_event(): 'Event truncated', ...   (torn last event, exit 0)
//   ERROR: Could not read entry at offset 299: Error in log format or read error.  (exit 1)
const MISSING_HISTORY = /missing data for domain|does not specify an initial value for domain/i;
const TORN = /Event truncated|Could not read entry at offset|Error in log format or read error/i;

export const mariadbSalvage: SalvageDialect = {
  tool: 'mariadb-binlog',
  listFiles: listFilesCommand,
  findIndexes: findIndexesCommand,
  printTransactions(files, position) {
    if (files.length === 0) throw new Error('no binary log file to read');
    const start = position.trim() === '' ? '' : normalizeMariadbGtidList(position, 'position');
    return [
      'mariadb-binlog',
      // First, as the tool requires: the host's option files must not change what it prints.
      '--no-defaults',
      // In strict mode (the default) a position with nothing after it fails (exit 1, "never
      // reached"): a caught-up candidate is not an error. Order is checked by selectSalvage; the
      // "missing data" check stays on without strict mode.
      '--skip-gtid-strict-mode',
      // Row events as BINLOG statements: the only form a server replays exactly.
      '--base64-output=auto',
      // Exclusive: the events after this position, per domain (a domain it does not name is read
      // from the first file given, and refused when that file starts past its beginning).
      ...(start === '' ? [] : [`--start-position=${start}`]),
      '--',
      ...files.map((f) => checkPath(f, 'binary log file')),
    ];
  },
  lastWrittenGtid: () => 'SELECT @@last_gtid AS gtid',
  abandonTransaction: () => ['ROLLBACK', 'SET @@session.gtid_seq_no=0'],
  // One variable per statement: the server checks all assignments of a SET before making any.
  resetSession: () => [
    'SET @@session.gtid_seq_no=0',
    'SET @@session.gtid_domain_id=@@global.gtid_domain_id',
    'SET @@session.server_id=@@global.server_id',
    'SET @@session.pseudo_slave_mode=0',
    'SET @@session.timestamp=DEFAULT',
  ],
  readOutcome(code, stderr): SalvageReadOutcome {
    const messages = messageLines(stderr);
    const torn = messages.some((m) => TORN.test(m));
    if (messages.some((m) => MISSING_HISTORY.test(m))) return { kind: 'missing-history', torn, messages };
    // A torn event at the very end of the last file is reported with exit status 0.
    if (code === 0) return { kind: 'complete', torn, messages };
    return { kind: torn ? 'partial' : 'failed', torn, messages };
  },
};
