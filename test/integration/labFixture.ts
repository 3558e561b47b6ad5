// A lab per test file: unique prefix, subnet, ports and directory, always torn down.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection, type Connection, type RowDataPacket } from 'mysql2/promise';
import { labDown, labUp, type LabInfo, type LabOptions } from '../../lab/index';
import { parseSubnet, subnetInUse } from '../../lab/net';
import { rememberSecrets } from '../replay/record';

export interface LabFixture {
  info: LabInfo;
  dir: string;
  prefix: string;
  subnet: string;
  /** Milliseconds `labUp` took. */
  upMs: number;
  /** Removes the lab and its directory; safe to call twice. */
  down(): Promise<void>;
}

const randomName = (n: number) =>
  Array.from(randomBytes(n), (b) => 'abcdefghijklmnopqrstuvwxyz0123456789'[b % 36]).join('');

/** "sot" + 4 random characters: always a valid lab prefix, rarely a collision. */
export const uniquePrefix = () => `sot${randomName(4)}`;

export async function uniqueSubnet(): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const cidr = `10.99.${1 + Math.floor(Math.random() * 250)}.0/24`;
    if ((await subnetInUse(parseSubnet(cidr))).length === 0) return cidr;
  }
  throw new Error('no free 10.99.N.0/24 subnet found');
}

function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
  });
}

/** A base port whose db ports and writer port (base+100) are free, in 20000-39999. */
export async function uniqueBasePort(hosts: number): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const base = 20000 + Math.floor(Math.random() * 199) * 100;
    const ports = [...Array.from({ length: hosts }, (_, k) => base + k), base + 100];
    if ((await Promise.all(ports.map(portFree))).every(Boolean)) return base;
  }
  throw new Error('no free port range found');
}

export async function startLab(opts: LabOptions = {}): Promise<LabFixture> {
  const hosts = opts.hosts ?? 3;
  const prefix = opts.prefix ?? uniquePrefix();
  const mode = opts.mode ?? 'netns';
  const subnet = opts.subnet ?? (mode === 'netns' ? await uniqueSubnet() : '10.99.0.0/24');
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'solab-'));
  const basePort = opts.basePort ?? (mode === 'loopback' ? await uniqueBasePort(hosts) : undefined);
  const t0 = Date.now();
  let info: LabInfo;
  try {
    info = await labUp({
      ...opts,
      hosts,
      prefix,
      subnet,
      dir,
      mode,
      basePort,
      temporal: opts.temporal ?? false,
    });
  } catch (e) {
    // labUp removed what it made; the directory is ours.
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const upMs = Date.now() - t0;
  rememberSecrets(info);
  let done = false;
  return {
    info,
    dir,
    prefix,
    subnet,
    upMs,
    async down() {
      if (done) return;
      done = true;
      try {
        await labDown({ dir });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** Root over the host's unix socket: works whatever the network does. */
export async function rootConnection(info: LabInfo, host: string): Promise<Connection> {
  const h = info.hosts.find((x) => x.name === host);
  if (!h) throw new Error(`no lab host ${host}`);
  return createConnection({ socketPath: h.socket, user: 'root', connectTimeout: 2000 });
}

/** The application account through the writer (VIP or HAProxy). */
export async function appConnection(info: LabInfo, connectTimeout = 2000): Promise<Connection> {
  return createConnection({
    host: info.writer.host,
    port: info.writer.port,
    user: info.app.user,
    password: readFileSync(info.app.passwordFile, 'utf8').trim(),
    database: info.app.database,
    connectTimeout,
  });
}

export async function query(
  info: LabInfo,
  host: string,
  sql: string,
  values: unknown[] = [],
): Promise<RowDataPacket[]> {
  const c = await rootConnection(info, host);
  try {
    const [rows] = await c.query<RowDataPacket[]>(sql, values);
    return rows;
  } finally {
    c.destroy();
  }
}

export async function slaveStatus(info: LabInfo, host: string): Promise<RowDataPacket | undefined> {
  return (await query(info, host, 'SHOW SLAVE STATUS'))[0];
}

/**
 * One cluster of a fleet (`lab up --clusters`) as a LabInfo of its own: its writer, VIP and hosts,
 * so appConnection and the other helpers above work on it.
 */
export function clusterInfo(info: LabInfo, name: string): LabInfo {
  const c = info.clusters?.find((x) => x.name === name);
  if (!c) throw new Error(`no cluster ${name} in the lab: ${info.clusters?.map((x) => x.name).join(', ')}`);
  return { ...info, cluster: c.name, hosts: c.hosts, writer: c.writer, vip: c.vip, haproxy: c.haproxy };
}
