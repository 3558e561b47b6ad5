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

export function writeHaproxyConfig(c: HaproxyConfig): void {
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
    'frontend writer',
    `  bind 127.0.0.1:${c.writerPort}`,
    `  default_backend ${WRITER_BACKEND}`,
    `backend ${WRITER_BACKEND}`,
    // A server put in maint has its connections shut at once, so the old primary keeps none.
    '  option tcpka',
    ...c.servers.map(
      (s) =>
        `  server ${s.name} ${s.address}:${s.port} on-marked-down shutdown-sessions` +
        `${s.backup ? ' backup' : ''}${s.enabled ? '' : ' disabled'}`,
    ),
  ];
  writeFileSync(c.configFile, lines.join('\n') + '\n', { mode: 0o600 });
}

export function startHaproxy(c: HaproxyConfig, logFile: string): number {
  // -W -db: master-worker in the foreground, so the pid we spawn is the master, which also
  // writes the pid file (plain foreground mode writes none).
  return daemon([findBinary('haproxy'), '-W', '-db', '-f', c.configFile], logFile);
}
