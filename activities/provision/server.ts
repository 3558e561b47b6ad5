// Stopping and starting the target's server around a physical copy, with the inventory's service
// commands, and waiting until it really is stopped or answering.
import { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Host } from '../../domain/inventory';
import { ErrorType, retryable } from '../errors';
import { shellQuote } from '../shellQuote';
import type { ProvisionHosts } from './hosts';

export type ServiceSpec = NonNullable<Host['service']>;

export const SERVER_STOP_TIMEOUT_MS = 120_000;
const SERVER_START_TIMEOUT_MS = 300_000;

/** True when something on the host runs with the datadir as its working directory (mariadbd does). */
export async function serverProcessIn(hosts: ProvisionHosts, host: Host, datadir: string): Promise<boolean> {
  const out = await hosts.remote(
    host,
    'look for a server in the datadir',
    `for p in /proc/[0-9]*; do [ "$(readlink "$p/cwd" 2>/dev/null)" = ${shellQuote(datadir)} ] && echo "\${p#/proc/}"; done; true`,
  );
  return out.trim() !== '';
}

/** The server's port accepts TCP (a new connection: the pool may hold stale ones). */
export function portOpen(host: Host): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(2000, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.connect(host.port, host.address);
  });
}

export async function stopServer(
  hosts: ProvisionHosts,
  host: Host,
  service: ServiceSpec,
  datadir: string,
): Promise<void> {
  await hosts.remote(host, 'service.stopCommand', service.stopCommand, SERVER_STOP_TIMEOUT_MS);
  const until = Date.now() + SERVER_STOP_TIMEOUT_MS;
  // The port closes early in a shutdown; InnoDB writes its files until the process is gone.
  while ((await portOpen(host)) || (await serverProcessIn(hosts, host, datadir))) {
    if (Date.now() > until)
      throw retryable(
        ErrorType.Timeout,
        `${host.name}: the server still runs in ${datadir} ${SERVER_STOP_TIMEOUT_MS / 1000} s after service.stopCommand`,
      );
    await sleep(500);
  }
}

export async function startServer(hosts: ProvisionHosts, host: Host, service: ServiceSpec): Promise<void> {
  await hosts.remote(host, 'service.startCommand', service.startCommand, SERVER_START_TIMEOUT_MS);
  const until = Date.now() + SERVER_START_TIMEOUT_MS;
  while (!(await hosts.answers(host))) {
    if (Date.now() > until)
      throw retryable(
        ErrorType.Timeout,
        `${host.name}: the server did not answer within ${SERVER_START_TIMEOUT_MS / 1000} s after service.startCommand (see its error log)`,
      );
    await sleep(500);
  }
}
