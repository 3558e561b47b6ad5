// Which sessions the kill loop may kill. The same rule for every flavor: every client session
// (including SUPER / READ ONLY ADMIN accounts, which read_only does not stop on MariaDB), and
// never replication, scheduler, background or our own threads.
import type { Row, Session, SessionList } from './dialect';
import { num, numOrNull, str, strOrNull } from './rows';

/** Commands of replication and server-internal threads. */
const PROTECTED_COMMANDS = new Set([
  'binlog dump',
  'binlog dump gtid',
  'slave_io',
  'slave_sql',
  'slave_worker',
  'register slave',
  'register replica',
  'daemon',
  'killed',
]);

/** Users the server gives its own threads (replication applier/receiver, event scheduler). */
const SYSTEM_USERS = new Set(['system user', 'event_scheduler']);

export const PROCESSLIST_COLUMNS =
  'ID, USER, HOST, DB, COMMAND, TIME, STATE, CONNECTION_ID() AS OWN_ID FROM information_schema.PROCESSLIST';

export function parseSessionRows(rows: Row[]): SessionList {
  let ownId = 0;
  const sessions: Session[] = [];
  for (const r of rows) {
    ownId = num(r, 'OWN_ID');
    sessions.push({
      id: num(r, 'ID'),
      user: str(r, 'USER'),
      host: str(r, 'HOST'),
      db: strOrNull(r, 'DB'),
      command: str(r, 'COMMAND'),
      timeSeconds: numOrNull(r, 'TIME') ?? 0,
      state: str(r, 'STATE'),
    });
  }
  return { ownId, sessions };
}

export interface KillOptions {
  /**
   * Accounts whose sessions are left alone: successover's own admin account (other activities
   * read the same host while the loop runs) and the replication account.
   */
  protectedUsers?: readonly string[];
}

export function isKillable(s: Session, ownId: number, options: KillOptions = {}): boolean {
  if (s.id === ownId || s.id <= 0) return false;
  if (SYSTEM_USERS.has(s.user.toLowerCase())) return false;
  if (PROTECTED_COMMANDS.has(s.command.toLowerCase())) return false;
  if (options.protectedUsers?.includes(s.user)) return false;
  return true;
}

export function killableSessions(list: SessionList, options: KillOptions = {}): Session[] {
  return list.sessions.filter((s) => isKillable(s, list.ownId, options));
}
