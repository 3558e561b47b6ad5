// One small mysql2 pool per host, opened on first use and reused: a new connection in the write
// blackout costs a round trip we do not want to pay twice.
import { createPool, type Pool, type PoolConnection } from 'mysql2/promise';
import type { Account } from '../deps';

export interface Endpoint {
  address: string;
  port: number;
}

export class SqlPools {
  private readonly pools = new Map<string, Pool>();

  constructor(
    private readonly account: Account,
    private readonly options: { connectTimeoutMs?: number; connectionLimit?: number } = {},
  ) {}

  private pool(e: Endpoint): Pool {
    const key = `${e.address}:${e.port}`;
    let p = this.pools.get(key);
    if (!p) {
      p = createPool({
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

  /** A connection the caller holds and releases (the critical section keeps its own). */
  connection(e: Endpoint): Promise<PoolConnection> {
    return this.pool(e).getConnection();
  }

  /** Runs fn on one connection; a connection that failed is destroyed, not returned to the pool. */
  async with<T>(e: Endpoint, fn: (c: PoolConnection) => Promise<T>): Promise<T> {
    const c = await this.pool(e).getConnection();
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
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.allSettled(all.map((p) => p.end()));
  }
}
