// One small mysql2 pool per host, opened on first use and reused: a new connection in the write
// blackout costs a round trip we do not want to pay twice. A worker serving many clusters keeps at
// most maxPools of them open (activities/lru.ts): the least recently used idle one is closed for a
// new host, never one with a connection held or being taken.
import { createPool, type Pool, type PoolConnection, type PoolOptions } from 'mysql2/promise';
import type { Account } from '../deps';
import { limitFromEnv, LruMap, sweepEvery } from '../lru';

export interface Endpoint {
  address: string;
  port: number;
}

export const DEFAULT_MAX_SQL_POOLS = 64;

export interface SqlPoolsOptions {
  connectTimeoutMs?: number;
  connectionLimit?: number;
  /** Hosts with a pool open at once; default SUCCESSOVER_SQL_POOLS_MAX, else 64. */
  maxPools?: number;
  /** A pool unused this long is closed (default: never for idleness, only for the bound). */
  idleMs?: number;
  /** How a pool is made: tests count and end their own. */
  createPool?: (options: PoolOptions) => Pool;
  /** The clock of the idle close, in ms. */
  now?: () => number;
}

export class SqlPools {
  private readonly pools: LruMap<Pool>;
  private readonly sweeper?: NodeJS.Timeout;

  constructor(
    private readonly account: Account,
    private readonly options: SqlPoolsOptions = {},
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.pools = new LruMap<Pool>({
      max: options.maxPools ?? limitFromEnv(env, 'SUCCESSOVER_SQL_POOLS_MAX', DEFAULT_MAX_SQL_POOLS),
      idleMs: options.idleMs,
      // Only a pool with no connection held or being taken is let go.
      evict: (_key, p) => void p.end().catch(() => undefined),
      now: options.now,
    });
    if (options.idleMs !== undefined)
      this.sweeper = setInterval(() => this.pools.sweep(), sweepEvery(options.idleMs)).unref();
  }

  /** Hosts with a pool open now. */
  get size(): number {
    return this.pools.size;
  }

  private pool(key: string, e: Endpoint): Pool {
    let p = this.pools.get(key);
    if (!p) {
      p = (this.options.createPool ?? createPool)({
        host: e.address,
        port: e.port,
        user: this.account.user,
        password: this.account.password,
        connectTimeout: this.options.connectTimeoutMs ?? 2000,
        // A few: the kill loop holds one while other activities read the same host.
        connectionLimit: this.options.connectionLimit ?? 4,
        maxIdle: 2,
        idleTimeout: 60_000,
        multipleStatements: false,
        enableKeepAlive: true,
      });
      this.pools.set(key, p);
    }
    return p;
  }

  /**
   * A connection the caller holds and releases (the critical section keeps its own). Its pool
   * stays open, whatever the bound, until it is released or destroyed.
   */
  async connection(e: Endpoint): Promise<PoolConnection> {
    const key = `${e.address}:${e.port}`;
    const done = this.pools.use(key);
    let c: PoolConnection;
    try {
      c = await this.pool(key, e).getConnection();
    } catch (err) {
      done();
      throw err;
    }
    const release = c.release.bind(c);
    const destroy = c.destroy.bind(c);
    // Given back first, then counted out: a pool closed for the bound then has it idle.
    c.release = () => {
      release();
      done();
    };
    c.destroy = () => {
      destroy();
      done();
    };
    return c;
  }

  /** Runs fn on one connection; a connection that failed is destroyed, not returned to the pool. */
  async with<T>(e: Endpoint, fn: (c: PoolConnection) => Promise<T>): Promise<T> {
    const c = await this.connection(e);
    try {
      const r = await fn(c);
      c.release();
      return r;
    } catch (err) {
      c.destroy();
      throw err;
    }
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    await Promise.allSettled(this.pools.drain().map((p) => p.end()));
  }
}
