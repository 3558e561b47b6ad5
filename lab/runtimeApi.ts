// A one-command client for HAProxy's runtime API (lab status reads who the writer backend serves).
import { createConnection } from 'node:net';
import { parseShowStat, receivers } from '../activities/traffic/haproxyState';

export function haproxyCommand(socket: string, command: string, timeoutMs = 2000): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const s = createConnection({ path: socket });
    let out = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`HAProxy runtime API ${socket}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    s.on('connect', () => s.write(`${command}\n`));
    s.on('data', (d) => (out += d.toString()));
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`HAProxy runtime API ${socket}: ${e.message}`));
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolvePromise(out);
    });
  });
}

export interface LabServer {
  name: string;
  /** Not in maintenance or drain: what writeHaproxyConfig writes as not `disabled`. */
  enabled: boolean;
  backup: boolean;
  /** Receives new connections now, by HAProxy's backup rules. */
  holder: boolean;
}

/** A backend's servers as HAProxy routes them now (one `show stat`, parsed like the router does). */
export async function backendServers(socket: string, backend: string): Promise<LabServer[]> {
  const out = await haproxyCommand(socket, `show stat ${backend} 4 -1`);
  const servers = parseShowStat(out, backend);
  const holders = new Set(receivers(servers).map((s) => s.server));
  return servers.map((s) => ({
    name: s.server,
    enabled: !s.maint && !s.drain,
    backup: s.backup,
    holder: holders.has(s.server),
  }));
}

/**
 * The servers that receive new writer connections: the lab's writer. With a pair's `backup` standby
 * both are enabled and only the active one is the writer, so "enabled" alone would show two.
 */
export async function enabledServers(socket: string, backend: string): Promise<string[]> {
  return (await backendServers(socket, backend)).filter((s) => s.holder).map((s) => s.name);
}
