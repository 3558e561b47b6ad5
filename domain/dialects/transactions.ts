// Long-running InnoDB transactions: the same tables on MariaDB and MySQL 8.
import type { LongTransaction, Probe } from './dialect';
import { num, numOrNull, str, stmt, strOrNull } from './rows';
import { sqlInteger } from './escape';

export function longTransactionsProbe(thresholdSeconds: number): Probe<LongTransaction[]> {
  const n = sqlInteger(thresholdSeconds, 'long transaction threshold (seconds)');
  return {
    statements: [
      stmt(
        'SELECT t.trx_id AS TRX_ID, t.trx_mysql_thread_id AS CONNECTION_ID, ' +
          'TIMESTAMPDIFF(SECOND, t.trx_started, NOW()) AS SECONDS, t.trx_state AS STATE, ' +
          't.trx_rows_modified AS ROWS_MODIFIED, p.USER AS USER, p.HOST AS HOST, p.DB AS DB ' +
          'FROM information_schema.INNODB_TRX t ' +
          'LEFT JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id ' +
          `WHERE t.trx_started <= NOW() - INTERVAL ${n} SECOND ORDER BY t.trx_started`,
      ),
    ],
    parse: (results) =>
      (results[0] ?? []).map((r) => ({
        trxId: str(r, 'TRX_ID'),
        connectionId: num(r, 'CONNECTION_ID'),
        seconds: numOrNull(r, 'SECONDS') ?? 0,
        state: str(r, 'STATE'),
        rowsModified: numOrNull(r, 'ROWS_MODIFIED') ?? 0,
        user: strOrNull(r, 'USER'),
        host: strOrNull(r, 'HOST'),
        db: strOrNull(r, 'DB'),
      })),
  };
}
