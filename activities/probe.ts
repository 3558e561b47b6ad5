// One look at whether a server answers, on a connection of its own: a pooled one could hide a
// server that stopped accepting new connections.
import { createConnection } from 'mysql2/promise';
import type { PrimaryProbe } from '../domain/emergency';
import type { Host } from '../domain/inventory';
import type { Account } from './deps';

export async function probeOnce(host: Host, account: Account, timeoutMs: number): Promise<PrimaryProbe> {
  const at = new Date().toISOString();
  try {
    const c = await createConnection({
      host: host.address,
      port: host.port,
      user: account.user,
      password: account.password,
      connectTimeout: timeoutMs,
    });
    try {
      await c.query({ sql: 'SELECT 1', timeout: timeoutMs });
    } finally {
      c.destroy();
    }
    return { ok: true, at };
  } catch (e) {
    return failedProbe(at, e);
  }
}

/** Any answer from the server (even "access denied", "too many connections") means it lives. */
export function failedProbe(at: string, e: unknown): PrimaryProbe {
  const err = e as { sqlState?: string; code?: string; message?: string };
  if (err.sqlState !== undefined && err.code !== 'PROTOCOL_CONNECTION_LOST')
    return { ok: true, at, error: `answered with an error: ${err.message}` };
  return { ok: false, at, error: `${err.code ?? 'error'}: ${err.message ?? String(e)}` };
}
