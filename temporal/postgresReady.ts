// Readiness of the PostgreSQL-backed Temporal once its processes run: the namespace and the
// runbooks' search attributes (created when missing, then proven usable), and the Web UI.
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { registerSearchAttributes, SEARCH_ATTRIBUTES } from './devserver';
import { retryUntil } from './postgresProcs';

/** How long a closed run's history stays (the namespace's retention): a week of look-back. */
const RETENTION = '7 days';

export async function withConnection<T>(address: string, fn: (c: Connection) => Promise<T>): Promise<T> {
  const conn = await Connection.connect({ address, connectTimeout: 2000 });
  try {
    return await fn(conn);
  } finally {
    await conn.close();
  }
}

/**
 * The namespace (with a retention) and the runbooks' search attributes, then a visibility query
 * naming them all: the proof that the frontend's namespace cache has them.
 */
export async function ensureNamespace(
  address: string,
  namespace: string,
  timeoutMs: number,
): Promise<boolean> {
  return withConnection(address, async (conn) => {
    const created = await retryUntil(`namespace ${namespace} on ${address}`, timeoutMs, async () => {
      try {
        await conn.workflowService.describeNamespace({ namespace });
        return false;
      } catch (e) {
        if ((e as { code?: number }).code !== 5) throw e; // NOT_FOUND
      }
      await conn.workflowService.registerNamespace({
        namespace,
        workflowExecutionRetentionPeriod: msToTs(RETENTION),
      });
      return true;
    });
    // A new namespace reaches the frontend's cache within its refresh interval (2 s).
    const before = await retryUntil(`namespace ${namespace} in the frontend's cache`, timeoutMs, () =>
      conn.operatorService.listSearchAttributes({ namespace }),
    );
    const missing = SEARCH_ATTRIBUTES.some((n) => before.customAttributes?.[n] === undefined);
    await retryUntil(`search attributes on ${namespace}`, timeoutMs, () =>
      registerSearchAttributes(conn, namespace),
    );
    const query = SEARCH_ATTRIBUTES.map((n) => `${n} = 'ready-check'`).join(' AND ');
    await retryUntil(`visibility query on the search attributes`, timeoutMs, () =>
      conn.workflowService.countWorkflowExecutions({ namespace, query }),
    );
    // The history service has a namespace cache of its own, refreshed every 2 s
    // (system.namespaceCacheRefreshInterval): a run upserting an attribute before it refreshed
    // would fail its first workflow task.
    if (created || missing) await sleep(2500);
    return created;
  });
}

export async function waitForUi(
  url: string,
  namespace: string,
  timeoutMs: number,
  gone: () => string | undefined,
) {
  // The API route goes through the UI server to the frontend: the UI is up and reaches the server.
  await retryUntil(
    `Web UI at ${url}`,
    timeoutMs,
    async () => {
      for (const path of ['/', `/api/v1/namespaces/${namespace}`]) {
        const r = await fetch(url + path, { signal: AbortSignal.timeout(2000) });
        if (!r.ok) throw new Error(`GET ${path}: HTTP ${r.status}`);
      }
    },
    gone,
  );
}
