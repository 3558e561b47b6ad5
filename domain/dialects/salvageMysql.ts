// MySQL 8's mysqlbinlog, read on the failed primary's host from the local files (never
// --read-from-remote-server: the server is down). Not installable on the development machine:
// unit tests pin the argv, and the messages below are MySQL's documented ones, not checked live.
import { normalizeMysqlGtidSet } from '../gtid';
import { checkPath } from './backup';
import {
  findIndexesCommand,
  listFilesCommand,
  messageLines,
  type SalvageDialect,
  type SalvageReadOutcome,
} from './salvage';

//   ERROR: Could not read entry at offset 1234: Error in log format or read error 1.
//   ERROR: Error in Log_event::read_log_event(): 'Event truncated', data_len: 50, event_type: 30
const TORN =
  /Event truncated|Event too short|Could not read entry at offset|Error in log format or read error/i;

export const mysqlSalvage: SalvageDialect = {
  tool: 'mysqlbinlog',
  listFiles: listFilesCommand,
  findIndexes: findIndexesCommand,
  printTransactions(files, position) {
    if (files.length === 0) throw new Error('no binary log file to read');
    const exclude = position.trim() === '' ? '' : normalizeMysqlGtidSet(position);
    return [
      'mysqlbinlog',
      // First, as the tool requires: the host's option files must not change what it prints.
      '--no-defaults',
      // Row events as BINLOG statements: the only form a server replays exactly.
      '--base64-output=AUTO',
      // Every transaction of the set is left out whole; the GTID_NEXT of the others is printed.
      // (--force-if-open is on by default: a crashed server never closed its last file.)
      ...(exclude === '' ? [] : [`--exclude-gtids=${exclude}`]),
      '--',
      ...files.map((f) => checkPath(f, 'binary log file')),
    ];
  },
  // A GTID set by GTID_NEXT is used once: a statement splitting the transaction fails (error 1837).
  lastWrittenGtid: () => null,
  // GTID_NEXT stays set after a ROLLBACK: the next statement would fail (ER_GTID_NEXT_TYPE_UNDEFINED_GTID).
  abandonTransaction: () => ['ROLLBACK', "SET @@SESSION.GTID_NEXT='AUTOMATIC'"],
  resetSession: () => [
    "SET @@SESSION.GTID_NEXT='AUTOMATIC'",
    'SET @@session.pseudo_slave_mode=0, @@session.timestamp=DEFAULT',
  ],
  readOutcome(code, stderr): SalvageReadOutcome {
    const messages = messageLines(stderr);
    const torn = messages.some((m) => TORN.test(m));
    // mysqlbinlog does not check that the files reach back to the set: selectSalvage does, on the
    // first file's Previous-GTIDs.
    if (code === 0) return { kind: 'complete', torn, messages };
    return { kind: torn ? 'partial' : 'failed', torn, messages };
  },
};
