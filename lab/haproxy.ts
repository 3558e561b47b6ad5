// Loopback mode's traffic router: HAProxy with a writer frontend and a backend whose only
// enabled server is the primary; runbooks switch it through the runtime API (admin socket).
// A master-master pair (seed 003) has both enabled, the standby as `backup`: it takes new
// connections only once the active primary is put in maintenance.
import { writeFileSync } from 'node:fs';
import { findBinary } from './bin';
import { daemon } from './sh';

export const WRITER_BACKEND = 'mysql_writer';

export interface HaproxyConfig {
  configFile: string;
  pidFile: string;
  socket: string;
  writerPort: number;
  servers: HaproxyServer[];
}

export interface HaproxyServer {
  name: string;
  address: string;
  port: number;
  enabled: boolean;
  /** Written `backup`: the pair's standby, in config order after the active primary. */
  backup?: boolean;
}

/** One writer endpoint: a frontend on its port sending to its backend (a fleet has one per cluster). */
export interface HaproxyRoute {
  frontend: string;
  port: number;
  backend: string;
  servers: HaproxyServer[];
}

/** The lab `lab`'s HAProxy: one route, frontend `writer` to backend WRITER_BACKEND. */
export function writeHaproxyConfig(c: HaproxyConfig): void {
  writeHaproxyRoutes({
    ...c,
    routes: [{ frontend: 'writer', port: c.writerPort, backend: WRITER_BACKEND, servers: c.servers }],
  });
}

export function writeHaproxyRoutes(
  c: Omit<HaproxyConfig, 'writerPort' | 'servers'> & { routes: HaproxyRoute[] },
): void {
  const lines = [
    'global',
    `  stats socket ${c.socket} mode 600 level admin`,
    `  pidfile ${c.pidFile}`,
    '  log stdout format raw local0 warning',
    'defaults',
    '  mode tcp',
    '  timeout connect 1s',
    '  timeout client 1h',
    '  timeout server 1h',
    ...c.routes.flatMap((r) => [
      `frontend ${r.frontend}`,
      `  bind 127.0.0.1:${r.port}`,
      `  default_backend ${r.backend}`,
      `backend ${r.backend}`,
      // A server put in maint has its connections shut at once, so the old primary keeps none.
      '  option tcpka',
      ...r.servers.map(
        (s) =>
          `  server ${s.name} ${s.address}:${s.port} on-marked-down shutdown-sessions` +
          `${s.backup ? ' backup' : ''}${s.enabled ? '' : ' disabled'}`,
      ),
    ]),
  ];
  writeFileSync(c.configFile, lines.join('\n') + '\n', { mode: 0o600 });
}

export function startHaproxy(c: Pick<HaproxyConfig, 'configFile'>, logFile: string): number {
  // -W -db: master-worker in the foreground, so the pid we spawn is the master, which also
  // writes the pid file (plain foreground mode writes none).
  return daemon([findBinary('haproxy'), '-W', '-db', '-f', c.configFile], logFile);
}
