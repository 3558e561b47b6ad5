// An application stand-in: commits a row every few ms through the writer endpoint (VIP or proxy)
// on an account with privileges on its own database only, so read_only stops it. It reconnects
// after any error with a short connect timeout, as a well-behaved application would, and records
// every acknowledged write: the proof that none is lost and the measure of the gap users feel.
import { readFileSync } from 'node:fs';
import { createConnection, type Connection } from 'mysql2/promise';
import type { LabInfo } from '../lab/types';

export interface WriterOptions {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  table?: string;
  intervalMs?: number;
  connectTimeoutMs?: number;
  /** How long one write may take before it counts as failed and the writer reconnects. */
  queryTimeoutMs?: number;
}

export interface Ack {
  seq: number;
  at: number;
}

export class Writer {
  readonly acked: Ack[] = [];
  errors = 0;
  /** When each failed attempt failed: the first one after a kill marks the outage's start. */
  readonly failedAt: number[] = [];
  private seq = 0;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private conn: Connection | undefined;

  constructor(private readonly o: WriterOptions) {}

  /** Writes through the lab's writer endpoint (VIP or HAProxy) with its application account. */
  static forLab(info: LabInfo, o: Pick<WriterOptions, 'intervalMs' | 'connectTimeoutMs'> = {}): Writer {
    return new Writer({
      host: info.writer.host,
      port: info.writer.port,
      user: info.app.user,
      password: readFileSync(info.app.passwordFile, 'utf8').trim(),
      database: info.app.database,
      ...o,
    });
  }

  get table(): string {
    return this.o.table ?? 'writes';
  }

  async start(): Promise<void> {
    // The first connection may take its time (a loaded machine, an endpoint just up); only the
    // reconnects during an outage must give up fast.
    const c = await this.connect(5000);
    await c.query(`CREATE TABLE IF NOT EXISTS \`${this.table}\` (seq INT PRIMARY KEY, at BIGINT NOT NULL)`);
    const [rows] = await c.query(`SELECT COALESCE(MAX(seq), 0) AS m FROM \`${this.table}\``);
    this.seq = Number((rows as { m: number }[])[0].m);
    this.conn = c;
    this.loop = this.run();
  }

  private connect(timeoutMs = this.o.connectTimeoutMs ?? 100): Promise<Connection> {
    return createConnection({
      host: this.o.host,
      port: this.o.port,
      user: this.o.user,
      password: this.o.password,
      database: this.o.database,
      connectTimeout: timeoutMs,
    });
  }

  private async run(): Promise<void> {
    const interval = this.o.intervalMs ?? 2;
    while (!this.stopped) {
      const seq = ++this.seq;
      try {
        this.conn ??= await this.connect();
        // A query timeout, as applications have: a connection to a primary cut off the network
        // otherwise waits on TCP's retransmission backoff (25 s and more) long after the VIP moved.
        await this.conn.query({
          sql: `INSERT INTO \`${this.table}\` (seq, at) VALUES (?, ?)`,
          values: [seq, Date.now()],
          timeout: this.o.queryTimeoutMs ?? 1000,
        });
        this.acked.push({ seq, at: Date.now() });
      } catch {
        // Not acknowledged: it may or may not have committed, and nobody was told it did.
        this.errors++;
        this.failedAt.push(Date.now());
        this.conn?.destroy();
        this.conn = undefined;
      }
      await new Promise((r) => setTimeout(r, interval));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    this.conn?.destroy();
    this.conn = undefined;
  }

  /** The longest time between two acknowledged writes with the later one in [from, to]. */
  maxGapMs(from = 0, to = Infinity): number {
    let max = 0;
    for (let i = 1; i < this.acked.length; i++) {
      const a = this.acked[i];
      if (a.at < from || a.at > to) continue;
      max = Math.max(max, a.at - this.acked[i - 1].at);
    }
    return max;
  }

  /**
   * Acknowledged writes missing from the table as read through `conn` (the new primary). `upTo`:
   * only the first N acknowledged, for a check while the writer still runs (take N before the read:
   * every one of them committed before the read started).
   */
  async lost(conn: Connection, upTo = this.acked.length): Promise<number[]> {
    const acked = this.acked.slice(0, upTo);
    const [rows] = await conn.query(`SELECT seq FROM \`${this.o.database}\`.\`${this.table}\``);
    const present = new Set((rows as { seq: number }[]).map((r) => Number(r.seq)));
    return acked.filter((a) => !present.has(a.seq)).map((a) => a.seq);
  }
}
