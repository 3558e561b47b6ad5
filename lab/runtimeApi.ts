// A one-command client for HAProxy's runtime API (lab status reads who the writer backend serves).
import { createConnection } from 'node:net';

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

/** Servers of a backend that take traffic (admin state ready: not in maintenance or drain). */
export async function enabledServers(socket: string, backend: string): Promise<string[]> {
  const out = await haproxyCommand(socket, `show servers state ${backend}`);
  // "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state ..."
  return out
    .split('\n')
    .filter((l) => l && !l.startsWith('#') && /^\d+ /.test(l))
    .map((l) => l.split(' '))
    .filter((f) => f[1] === backend && Number(f[6]) === 0)
    .map((f) => f[3]);
}
