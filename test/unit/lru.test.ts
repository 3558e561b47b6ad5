// The bound on per-host resources of a worker serving many clusters: the LRU map itself (with its
// own clock), SqlPools with counted fake pools, and SshPool against an SSH server in this process.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pool, PoolConnection, PoolOptions } from 'mysql2/promise';
import { Server, type ClientChannel, type ServerChannel } from 'ssh2';
import { HostSchema, type Host } from '../../domain/inventory';
import { limitFromEnv, LruMap, sweepEvery } from '../../activities/lru';
import { SqlPools } from '../../activities/sql/pools';
import { SshPool } from '../../activities/ssh';

describe('LruMap', () => {
  let now = 0;
  let evicted: string[] = [];
  const map = (max: number, idleMs?: number) =>
    new LruMap<string>({
      max,
      idleMs,
      now: () => now,
      evict: (k, v, why) => evicted.push(`${k}=${v}:${why}`),
    });
  beforeEach(() => {
    now = 1000;
    evicted = [];
  });

  test('a new key beyond the bound closes the least recently used', () => {
    const m = map(2);
    m.set('a', 'A');
    m.set('b', 'B');
    m.use('a')(); // a used again: b is now the least recent
    m.set('c', 'C');
    expect(evicted).toEqual(['b=B:bound']);
    expect([m.get('a'), m.get('b'), m.get('c')]).toEqual(['A', undefined, 'C']);
    expect(m.size).toBe(2);
  });

  test('a key in use is never closed; the bound is exceeded until one is released', () => {
    const m = map(2);
    const doneA = m.use('a');
    m.set('a', 'A');
    const doneB = m.use('b');
    m.set('b', 'B');
    m.set('c', 'C'); // a and b in use, c the one just added
    expect(evicted).toEqual([]);
    expect(m.size).toBe(3);
    doneB(); // over the bound with two idle: c, used before b's release ended, goes at once
    expect(evicted).toEqual(['c=C:bound']);
    expect(m.size).toBe(2);
    doneB(); // a second call changes nothing
    expect(m.inUse('a')).toBe(true);
    doneA();
    expect(m.inUse('a')).toBe(false);
    expect(evicted).toEqual(['c=C:bound']);
  });

  test('uses are counted: the key is in use until the last one ends', () => {
    const m = map(1);
    const one = m.use('a');
    const two = m.use('a');
    m.set('a', 'A');
    one();
    m.set('b', 'B');
    expect(evicted).toEqual([]); // a still used by two
    two(); // a's use ended after b was added: b is the least recent
    expect(evicted).toEqual(['b=B:bound']);
    m.set('c', 'C');
    expect(evicted).toEqual(['b=B:bound', 'a=A:bound']);
  });

  test('a use may start before the value exists (a connection being opened) and spans a replacement', () => {
    const m = map(1);
    const done = m.use('a');
    m.set('a', 'A1');
    m.set('a', 'A2'); // a reconnect: same key, the old value is not the map's to close
    m.set('b', 'B');
    expect(evicted).toEqual([]);
    m.set('c', 'C'); // b goes; a is still in use
    expect(evicted).toEqual(['b=B:bound']);
    done();
    expect(evicted).toEqual(['b=B:bound', 'c=C:bound']);
    expect(m.get('a')).toBe('A2');
  });

  test('sweep closes what was unused for idleMs, from the end of its last use', () => {
    const m = map(10, 5000);
    m.set('a', 'A');
    m.set('b', 'B');
    const busy = m.use('b');
    now += 4999;
    m.sweep();
    expect(evicted).toEqual([]);
    now += 1;
    m.sweep();
    expect(evicted).toEqual(['a=A:idle']); // b is in use however long
    now += 60_000;
    busy();
    m.sweep();
    expect(evicted).toEqual(['a=A:idle']);
    now += 5000;
    m.sweep();
    expect(evicted).toEqual(['a=A:idle', 'b=B:idle']);
  });

  test('without idleMs, sweep closes nothing', () => {
    const m = map(10);
    m.set('a', 'A');
    now += 1e9;
    m.sweep();
    expect(evicted).toEqual([]);
  });

  test('delete forgets without closing; drain hands everything back', () => {
    const m = map(10);
    m.set('a', 'A');
    m.set('b', 'B');
    expect(m.delete('a')).toBe(true);
    expect(m.drain()).toEqual(['B']);
    expect(m.size).toBe(0);
    expect(evicted).toEqual([]);
  });

  test('a bound below 1 is refused', () => {
    expect(() => map(0)).toThrow('an LRU bound must be a whole number of at least 1, got 0');
  });

  test('limits from the environment: default, value, and a clear error', () => {
    expect(limitFromEnv({}, 'X_MAX', 64)).toBe(64);
    expect(limitFromEnv({ X_MAX: ' ' }, 'X_MAX', 64)).toBe(64);
    expect(limitFromEnv({ X_MAX: '8' }, 'X_MAX', 64)).toBe(8);
    expect(() => limitFromEnv({ X_MAX: '0' }, 'X_MAX', 64)).toThrow(
      'X_MAX: expected a whole number of at least 1, got "0": fix or unset it (default 64)',
    );
    expect(() => limitFromEnv({ X_MAX: 'lots' }, 'X_MAX', 64)).toThrow('got "lots"');
  });

  test('sweeps often enough, never busily', () => {
    expect(sweepEvery(300_000)).toBe(60_000);
    expect(sweepEvery(20_000)).toBe(5000);
    expect(sweepEvery(10)).toBe(100);
  });
});

describe('SqlPools keeps at most maxPools open', () => {
  /** A pool that hands out connections and counts what is still held. */
  function fakePools() {
    const made: { host: string; ended: boolean; held: number }[] = [];
    const createPool = (o: PoolOptions) => {
      const p = { host: `${o.host}:${o.port}`, ended: false, held: 0 };
      made.push(p);
      return {
        getConnection: async () => {
          if (p.ended) throw new Error(`pool ${p.host} used after end()`);
          p.held++;
          const c = { release: () => void p.held--, destroy: () => void p.held-- };
          return c as unknown as PoolConnection;
        },
        end: async () => {
          p.ended = true;
        },
      } as unknown as Pool;
    };
    return { made, createPool };
  }
  const at = (i: number) => ({ address: `10.0.0.${i}`, port: 3306 });
  const open = (made: { host: string; ended: boolean }[]) => made.filter((p) => !p.ended).map((p) => p.host);

  test('the least recently used idle pool is ended for a new host; a held connection keeps its pool', async () => {
    const { made, createPool } = fakePools();
    const pools = new SqlPools({ user: 'u', password: 'p' }, { maxPools: 2, createPool });
    await pools.with(at(1), async () => 1);
    const held = await pools.connection(at(2)); // the critical section's own connection
    await pools.with(at(3), async () => 3); // 1 is idle and least recent: ended
    expect(open(made)).toEqual(['10.0.0.2:3306', '10.0.0.3:3306']);
    await pools.with(at(4), async () => 4); // 2 is held: 3 goes, though 2 is older
    expect(open(made)).toEqual(['10.0.0.2:3306', '10.0.0.4:3306']);
    held.release(); // 2 used last now: 4 is the least recent
    await pools.with(at(1), async () => 1); // a pool again for a host whose pool was ended
    expect(open(made)).toEqual(['10.0.0.2:3306', '10.0.0.1:3306']);
    expect(made.every((p) => p.held === 0)).toBe(true);
    expect(pools.size).toBe(2);
    await pools.close();
    expect(open(made)).toEqual([]);
  });

  test('a failed function destroys its connection, and that ends its use too', async () => {
    const { made, createPool } = fakePools();
    const pools = new SqlPools({ user: 'u', password: 'p' }, { maxPools: 1, createPool });
    await expect(
      pools.with(at(1), async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await pools.with(at(2), async () => 2);
    expect(open(made)).toEqual(['10.0.0.2:3306']);
    expect(made[0]?.held).toBe(0);
    await pools.close();
  });

  test('SUCCESSOVER_SQL_POOLS_MAX sets the bound when the option does not', async () => {
    const { made, createPool } = fakePools();
    const pools = new SqlPools(
      { user: 'u', password: 'p' },
      { createPool },
      { SUCCESSOVER_SQL_POOLS_MAX: '1' },
    );
    await pools.with(at(1), async () => 1);
    await pools.with(at(2), async () => 2);
    expect(open(made)).toEqual(['10.0.0.2:3306']);
    await pools.close();
    expect(() => new SqlPools({ user: 'u', password: 'p' }, {}, { SUCCESSOVER_SQL_POOLS_MAX: 'x' })).toThrow(
      /^SUCCESSOVER_SQL_POOLS_MAX: expected a whole number/,
    );
  });
});

describe('SshPool keeps at most maxConnections open and closes idle ones', () => {
  let dir: string;
  let server: Server;
  let port: number;
  let clientKey: Buffer;
  let hostKey: string;
  /** Connections the server has open, by login. */
  const live = new Map<string, number>();
  const held: ServerChannel[] = [];

  const key = (name: string) => {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, name)]);
    return { priv: readFileSync(join(dir, name)), pub: readFileSync(join(dir, `${name}.pub`), 'utf8') };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lru-ssh-'));
    const host = key('host');
    hostKey = host.pub.split(' ').slice(0, 2).join(' ');
    clientKey = key('client').priv;
    server = new Server({ hostKeys: [host.priv] }, (client) => {
      let user = '';
      client.on('authentication', (ctx) => {
        user = ctx.username;
        if (ctx.method === 'publickey') ctx.accept();
        else ctx.reject(['publickey']);
      });
      client.on('ready', () => {
        live.set(user, (live.get(user) ?? 0) + 1);
        client.on('session', (accept) => {
          accept().on('exec', (ok, _no, info) => {
            const ch = ok();
            // "hold" keeps the channel open (a stream under way) until the client closes it.
            // Read, as a real command reads its stdin: a stream not read never reports its close.
            if (info.command === 'hold') return void held.push(ch.resume());
            ch.exit(0);
            ch.end();
          });
        });
      });
      client.on('close', () => {
        if (user && live.get(user)) live.set(user, (live.get(user) as number) - 1);
      });
      client.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  /** One server, a login per "host": the pool keys its connections by login, address, port and key. */
  const host = (user: string): Host =>
    HostSchema.parse({ name: user, address: '127.0.0.1', port: 3306, ssh: { port, hostKey, user } });
  const open = () =>
    [...live.entries()]
      .filter(([, n]) => n > 0)
      .map(([u]) => u)
      .sort();
  async function until(what: string, cond: () => boolean, ms = 5000) {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; open: ${open().join(', ')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  const run = async (pool: SshPool, user: string) =>
    expect((await pool.exec(host(user), 'true', { ownChannel: true })).code).toBe(0);
  const closeChannel = (c: ClientChannel) =>
    new Promise<void>((resolve) => {
      c.once('close', () => resolve());
      c.resume();
      c.close();
    });

  test('a new host closes the least recently used idle connection, never one with a channel open', async () => {
    live.clear();
    const pool = new SshPool({ user: 'x', privateKey: clientKey, maxConnections: 2, idleMs: 600_000 });
    try {
      await run(pool, 'u1');
      await run(pool, 'u2');
      await run(pool, 'u3');
      await until('u1 closed', () => open().join() === 'u2,u3');
      expect(pool.isConnected(host('u1'))).toBe(false);

      const stream = await pool.openChannel(host('u2'), 'hold');
      await run(pool, 'u4'); // u2 is busy: u3 goes, though u2 is older
      await until('u3 closed', () => open().join() === 'u2,u4');
      await run(pool, 'u1'); // u2 still busy: u4 goes
      await until('u4 closed', () => open().join() === 'u1,u2');

      // Everything busy: the bound is exceeded rather than a stream cut, and kept again after.
      const other = await pool.openChannel(host('u1'), 'hold');
      const third = await pool.openChannel(host('u3'), 'hold');
      expect(pool.size).toBe(3);
      await until('three open', () => open().join() === 'u1,u2,u3');
      await closeChannel(stream); // u2 idle, and one too many: closed at once
      await until('back to two', () => open().join() === 'u1,u3');
      expect(pool.size).toBe(2);
      await closeChannel(other);
      await closeChannel(third);
    } finally {
      await pool.close();
    }
    await until('all closed', () => open().length === 0);
  }, 60_000);

  test('a connection unused for idleMs is closed; one with a channel open is kept', async () => {
    live.clear();
    const pool = new SshPool({ user: 'x', privateKey: clientKey, maxConnections: 10, idleMs: 400 });
    try {
      await run(pool, 'i1');
      const stream = await pool.openChannel(host('i2'), 'hold');
      await until('the idle one closed', () => open().join() === 'i2');
      await new Promise((r) => setTimeout(r, 600)); // past idleMs: the busy one stays
      expect(open()).toEqual(['i2']);
      await closeChannel(stream);
      await until('the other closed once idle', () => open().length === 0);
      expect(pool.size).toBe(0);
      await run(pool, 'i1'); // and opened again on the next use
    } finally {
      await pool.close();
    }
  }, 60_000);
});
