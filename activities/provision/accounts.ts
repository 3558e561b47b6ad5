// Accounts after a logical copy. The dump restores user schemas only, never the mysql schema over
// the target's: the target keeps its own accounts (the worker's among them) and gets the donor's
// other accounts created one by one. A physical copy brings the donor's mysql schema whole, which
// is right for a replica: in a replicated cluster the donor's accounts are the primary's.
import type { Dialect, Statement } from '../../domain/dialects';
import type { Account } from '../../domain/dialects/backup';
import type { Host } from '../../domain/inventory';
import { execute, probe } from '../sql/run';
import { errorMessage } from '../traffic/common';
import type { ProvisionHosts } from './hosts';

export interface AccountsCopied {
  /** Donor accounts (and roles) the target lacked, now created. */
  created: number;
  /** "user@host: why" for each one that could not be read on the donor or created on the target. */
  skipped: string[];
}

const key = (a: Account) => `${a.user}@${a.host}`;

/**
 * The donor's accounts the target lacks, created without binlog events. Accounts are not in the
 * dump's snapshot (and need not be: changes made after it replicate), and one the donor cannot
 * show or the target refuses is reported, not fatal. Null when the flavor leaves accounts to the
 * operator.
 */
export async function copyAccounts(
  hosts: ProvisionHosts,
  donor: Host,
  target: Host,
  dialect: Dialect,
): Promise<AccountsCopied | null> {
  const copy = dialect.backup.accounts;
  if (!copy) return null;
  const skipped: string[] = [];
  const definitions = await hosts.on(donor, 'read accounts', async (c) => {
    const out: { account: Account; statements: Statement[] }[] = [];
    for (const account of await probe(c, copy.list()))
      try {
        out.push({ account, statements: await probe(c, copy.definition(account)) });
      } catch (e) {
        skipped.push(`${key(account)}: ${errorMessage(e)}`);
      }
    return out;
  });
  let created = 0;
  await hosts.on(target, 'create accounts', async (c) => {
    const existing = new Set((await probe(c, copy.list())).map(key));
    await execute(c, [{ sql: 'SET SESSION sql_log_bin=0', redacted: 'SET SESSION sql_log_bin=0' }]);
    try {
      // Roles first: users' grants name them.
      const missing = definitions
        .filter((d) => !existing.has(key(d.account)))
        .sort((a, b) => Number(b.account.role) - Number(a.account.role));
      for (const d of missing) {
        try {
          await execute(c, d.statements);
          created++;
        } catch (e) {
          skipped.push(`${key(d.account)}: ${errorMessage(e)}`);
        }
      }
    } finally {
      await execute(c, [{ sql: 'SET SESSION sql_log_bin=1', redacted: 'SET SESSION sql_log_bin=1' }]);
    }
  });
  return { created, skipped };
}
