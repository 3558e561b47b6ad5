// How every provisioning phase reaches a host: SQL over the shared pools, commands over SSH, each
// failure classified and naming the host and the step.
import { setTimeout as sleep } from 'node:timers/promises';
import type { PoolConnection } from 'mysql2/promise';
import type { ClientChannel } from 'ssh2';
import { dialectFor, type Dialect } from '../../domain/dialects';
import type { Cluster, Host } from '../../domain/inventory';
import { trimSlash } from '../../domain/provision/lastLook';
import type { ActivityDeps } from '../deps';
import { ErrorType, classifySqlError, nonRetryable, retryable } from '../errors';
import { clusterOf, hostOf } from '../lookup';
import type { SqlPools } from '../sql/pools';
import type { SshPool } from '../ssh';
import { tail, writeFile } from './streams';

export interface ProvisionShared {
  pools: SqlPools;
  ssh: SshPool | undefined;
}

export type ProvisionHosts = ReturnType<typeof provisionHosts>;

export async function serverDatadir(c: PoolConnection): Promise<string> {
  const [rows] = await c.query('SELECT @@datadir AS d');
  return trimSlash(String((rows as { d: string }[])[0].d));
}

export function provisionHosts(deps: ActivityDeps, shared: ProvisionShared) {
  const { pools } = shared;

  function lookup(ref: { cluster: string; host: string }): {
    cluster: Cluster;
    host: Host;
    dialect: Dialect;
  } {
    const cluster = clusterOf(deps.inventory, ref.cluster);
    return { cluster, host: hostOf(cluster, ref.host), dialect: dialectFor(cluster.flavor) };
  }

  async function on<T>(host: Host, operation: string, fn: (c: PoolConnection) => Promise<T>): Promise<T> {
    try {
      return await pools.with(host, fn);
    } catch (err) {
      throw classifySqlError(host.name, operation, err);
    }
  }

  /**
   * `on`, tried again on a transient failure: right after a restart the pool may still hand out a
   * connection to the stopped server, and failing there would throw away a whole copy.
   */
  async function onPatiently<T>(
    host: Host,
    operation: string,
    fn: (c: PoolConnection) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await on(host, operation, fn);
      } catch (e) {
        if (attempt >= 5 || (e as { nonRetryable?: boolean }).nonRetryable) throw e;
        await sleep(500);
      }
    }
  }

  /** True when the server answers a query now. */
  async function answers(host: Host): Promise<boolean> {
    try {
      await pools.with(host, (c) => c.query('SELECT 1'));
      return true;
    } catch {
      return false;
    }
  }

  function ssh(host: Host): SshPool {
    if (!shared.ssh)
      throw nonRetryable(
        ErrorType.BadConfiguration,
        `provisioning ${host.name} runs commands over SSH: add credentials.ssh (user, privateKeyFile) to the inventory`,
      );
    if (!host.ssh)
      throw nonRetryable(
        ErrorType.BadConfiguration,
        `provisioning runs commands on ${host.name} over SSH: add ssh.hostKey to host ${host.name}`,
      );
    return shared.ssh;
  }

  /** Whether commands can run on the host: inspection reads less without them, and does not fail. */
  const canSsh = (host: Host) => Boolean(shared.ssh && host.ssh);

  /** A command on its own channel; a non-zero exit fails with the command's stderr, naming the step. */
  async function remote(host: Host, what: string, command: string, timeoutMs = 60_000): Promise<string> {
    const r = await ssh(host).exec(host, command, { timeoutMs, ownChannel: true });
    if (r.code !== 0)
      throw retryable(
        ErrorType.Unreachable,
        `${what} on ${host.name} failed (exit ${r.code ?? r.signal}): ${tail(r.stderr || r.stdout)}`,
      );
    return r.stdout;
  }

  /** The datadir a run works beside: the inventory's service.datadir, else the server's @@datadir. */
  async function datadirOf(host: Host): Promise<string | null> {
    const service = host.service ?? null;
    if (service) return trimSlash(service.datadir);
    try {
      return await on(host, 'read datadir', async (c) => serverDatadir(c));
    } catch {
      return null;
    }
  }

  return {
    lookup,
    on,
    onPatiently,
    answers,
    ssh,
    canSsh,
    remote,
    datadirOf,
    writeFile: (host: Host, path: string, content: string) => writeFile(ssh(host), host, path, content),
    openChannel: (host: Host, command: string): Promise<ClientChannel> =>
      ssh(host).openChannel(host, command),
  };
}
