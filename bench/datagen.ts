// A generated data set for provisioning benchmarks and tests: several InnoDB tables of orders with
// int, varchar, text, datetime and decimal columns and a secondary index, written through the
// primary (so replicas get it by replication) until their size on disk is about what was asked.
// Fast by construction: multi-row INSERTs of about 1 MB, one transaction each, over a few
// connections at once, while the next statement is built in between.
import { createConnection, type Connection, type RowDataPacket } from 'mysql2/promise';
import { quoteIdentifier, quoteString } from '../domain/dialects/escape';

export interface GenerateDataOptions {
  /** The primary, or an endpoint that leads to it (VIP, proxy). */
  host: string;
  port: number;
  user: string;
  password: string;
  /** Created when missing. */
  database: string;
  /** About this many MB on disk (information_schema data_length + index_length) when done. */
  sizeMb: number;
  /** Default 8. */
  tables?: number;
  /** Connections inserting at once; default 3. */
  connections?: number;
  /** Bytes of SQL per INSERT (one transaction each); default 1 MB. */
  statementBytes?: number;
  /** Tables that already hold rows are dropped and made again; without it they are refused. */
  replace?: boolean;
  log?: (line: string) => void;
}

export interface GeneratedData {
  /** Table names, in the database given. */
  tables: string[];
  rows: number;
  /** data_length + index_length of the tables afterwards. */
  bytes: number;
  ms: number;
}

const MB = 1024 * 1024;
const MAX_TABLES = 64;
const MAX_STATEMENT = 8 * MB;
/** Fractions of the SQL thought needed at which on-disk bytes per SQL byte are measured again. */
const CHECKPOINTS = [0.3, 0.6, 0.85, 0.95];

export const tableName = (i: number) => `orders_${String(i + 1).padStart(2, '0')}`;

/** `qualified`: the quoted database.table. */
const tableDdl = (qualified: string) => `CREATE TABLE ${qualified} (
  id BIGINT UNSIGNED NOT NULL,
  customer_id INT UNSIGNED NOT NULL,
  status VARCHAR(16) NOT NULL,
  customer_name VARCHAR(80) NOT NULL,
  email VARCHAR(120) NOT NULL,
  amount DECIMAL(12,2) NOT NULL,
  quantity SMALLINT UNSIGNED NOT NULL,
  created_at DATETIME NOT NULL,
  updated_at DATETIME NULL,
  note TEXT NOT NULL,
  PRIMARY KEY (id),
  KEY customer_created (customer_id, created_at)
) ENGINE=InnoDB`;

const COLUMNS =
  '(id, customer_id, status, customer_name, email, amount, quantity, created_at, updated_at, note)';

const FIRST = [
  'anna',
  'ben',
  'chloe',
  'david',
  'emma',
  'felix',
  'grace',
  'hugo',
  'iris',
  'jonas',
  'karin',
  'liam',
];
const LAST = [
  'martin',
  'nguyen',
  'olsen',
  'petrov',
  'quinn',
  'rossi',
  'silva',
  'tanaka',
  'urban',
  'varga',
  'weber',
];
const STATUS = ['new', 'paid', 'packed', 'shipped', 'delivered', 'returned', 'cancelled'];
const WORDS = (
  'the order was placed online and paid by card customer asked for gift wrapping delivery ' +
  'window morning afternoon evening parcel left with neighbour signature required fragile ' +
  'items please call before arrival address updated warehouse backorder partial shipment ' +
  'refund requested replacement sent invoice attached discount applied loyalty points ' +
  'express standard pickup store courier tracking number delayed weather customs cleared'
).split(' ');

/** mulberry32: small, fast, and the same sequence for the same seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const EPOCH = Date.UTC(2023, 0, 1);
const DAYS = 730;
const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));
/** 'YYYY-MM-DD ' of each day from EPOCH: formatting a date per row would cost more than the row. */
const DAY = Array.from({ length: DAYS + 31 }, (_, d) =>
  new Date(EPOCH + d * 86400_000).toISOString().slice(0, 11).replace('T', ' '),
);
const datetime = (day: number, second: number) =>
  `'${DAY[day]}${pad2(Math.floor(second / 3600))}:${pad2(Math.floor(second / 60) % 60)}:${pad2(second % 60)}'`;

/** Quoted literals drawn from: varied enough for realistic pages, cheap enough for 1 GB. */
interface Pools {
  names: { name: string; email: string }[];
  notes: string[];
}

function pools(rnd: () => number): Pools {
  const pick = <T>(a: T[]) => a[Math.floor(rnd() * a.length)];
  const names = FIRST.flatMap((f) =>
    LAST.map((l) => ({ name: quoteString(`${f} ${l}`), email: `${f}.${l}` })),
  );
  const notes = Array.from({ length: 4096 }, () => {
    const words: string[] = [];
    for (let n = 10 + Math.floor(rnd() * 110); n > 0; n--) words.push(pick(WORDS));
    return quoteString(words.join(' '));
  });
  return { names, notes };
}

/** One INSERT of rows [firstId, ...) of about `bytes` bytes; returns it and how many rows it has. */
function insertStatement(
  qualified: string,
  firstId: number,
  bytes: number,
  rnd: () => number,
  p: Pools,
): { sql: string; rows: number } {
  const pick = <T>(a: T[]) => a[Math.floor(rnd() * a.length)];
  const parts: string[] = [];
  let size = 0;
  let id = firstId;
  while (size < bytes) {
    const who = pick(p.names);
    const customer = 1 + Math.floor(rnd() * 1_000_000);
    const day = Math.floor(rnd() * DAYS);
    const second = Math.floor(rnd() * 86400);
    // The e-mail is letters, digits, "." and "@" only: nothing to escape.
    const row =
      `(${id},${customer},'${pick(STATUS)}',${who.name},'${who.email}${customer}@example.com',` +
      `${(rnd() * 5000).toFixed(2)},${1 + Math.floor(rnd() * 20)},${datetime(day, second)},` +
      `${rnd() < 0.3 ? 'NULL' : datetime(day + Math.floor(rnd() * 30), Math.floor(rnd() * 86400))},` +
      `${pick(p.notes)})`;
    parts.push(row);
    size += row.length + 1;
    id++;
  }
  return { sql: `INSERT INTO ${qualified} ${COLUMNS} VALUES ${parts.join(',')}`, rows: id - firstId };
}

function check(
  o: GenerateDataOptions,
): Required<Pick<GenerateDataOptions, 'tables' | 'connections' | 'statementBytes'>> {
  const tables = o.tables ?? 8;
  const connections = o.connections ?? 3;
  const statementBytes = o.statementBytes ?? MB;
  if (!(Number.isFinite(o.sizeMb) && o.sizeMb > 0))
    throw new Error(`size ${o.sizeMb} MB: expected a number of MB above 0`);
  if (!Number.isInteger(tables) || tables < 1 || tables > MAX_TABLES)
    throw new Error(`tables ${tables}: expected an integer 1-${MAX_TABLES}`);
  if (!Number.isInteger(connections) || connections < 1 || connections > 32)
    throw new Error(`connections ${connections}: expected an integer 1-32`);
  if (!Number.isInteger(statementBytes) || statementBytes < 1024 || statementBytes > MAX_STATEMENT)
    throw new Error(`statementBytes ${statementBytes}: expected 1024 to ${MAX_STATEMENT}`);
  if (!o.database) throw new Error('database: expected a database name, e.g. bench');
  return { tables, connections, statementBytes };
}

async function sizeOnDisk(c: Connection, database: string, tables: string[]): Promise<number> {
  // Fresh statistics: data_length and index_length are the pages the tables' segments hold.
  const list = tables.map((t) => `${quoteIdentifier(database)}.${quoteIdentifier(t)}`).join(', ');
  await c.query(`ANALYZE NO_WRITE_TO_BINLOG TABLE ${list}`);
  const [rows] = await c.query<RowDataPacket[]>(
    'SELECT COALESCE(SUM(data_length + index_length), 0) AS bytes FROM information_schema.tables ' +
      'WHERE table_schema = ? AND table_name IN (?)',
    [database, tables],
  );
  return Number(rows[0].bytes);
}

/** Generates the data set; see the file comment. Refuses a read-only endpoint and tables holding rows. */
export async function generateData(o: GenerateDataOptions): Promise<GeneratedData> {
  const { tables: tableCount, connections, statementBytes } = check(o);
  const log = o.log ?? (() => undefined);
  const t0 = Date.now();
  const connect = () =>
    createConnection({
      host: o.host,
      port: o.port,
      user: o.user,
      password: o.password,
      connectTimeout: 5000,
    });
  const admin = await connect();
  const tables = Array.from({ length: tableCount }, (_, i) => tableName(i));
  const db = quoteIdentifier(o.database);
  const qualified = (t: string) => `${db}.${quoteIdentifier(t)}`;
  const conns: Connection[] = [];
  try {
    const [[ro]] = await admin.query<RowDataPacket[]>(
      'SELECT @@global.read_only AS ro, @@hostname AS h, @@port AS p',
    );
    if (Number(ro.ro) !== 0)
      throw new Error(
        `${o.host}:${o.port} leads to a read-only server (${String(ro.h)}:${String(ro.p)}): ` +
          'the data set is written through the primary, so give the primary or the writer endpoint',
      );
    await admin.query(`CREATE DATABASE IF NOT EXISTS ${db}`);
    for (const t of tables) {
      const [exists] = await admin.query<RowDataPacket[]>(
        'SELECT 1 FROM information_schema.tables WHERE table_schema = ? AND table_name = ?',
        [o.database, t],
      );
      if (exists.length) {
        const [some] = await admin.query<RowDataPacket[]>(`SELECT 1 FROM ${qualified(t)} LIMIT 1`);
        if (some.length && !o.replace)
          throw new Error(
            `${o.database}.${t} already holds rows: choose another database, or replace (--replace) to drop and generate it again`,
          );
        await admin.query(`DROP TABLE ${qualified(t)}`);
      }
      await admin.query(tableDdl(qualified(t)));
    }

    const target = o.sizeMb * MB;
    // On-disk bytes per byte of SQL (page fill, row headers, the secondary index), measured again
    // as the tables grow: small tables hold whole extents they have not filled yet.
    let ratio = 1.2;
    let sqlTarget = target / ratio;
    let planned = 0;
    let committed = 0;
    let rows = 0;
    const nextId = tables.map(() => 1);
    let turn = 0;
    const rnd = prng(1);
    const literals = pools(rnd);
    let checkpoint = 0;
    let calibrating: Promise<void> | undefined;
    let lastLog = Date.now();

    const calibrate = async () => {
      const at = committed;
      const bytes = await sizeOnDisk(admin, o.database, tables);
      if (at > 0 && bytes > 0) {
        ratio = bytes / at;
        sqlTarget = target / ratio;
      }
      log(
        `${(bytes / MB).toFixed(0)} MB on disk from ${(at / MB).toFixed(0)} MB of SQL: ${ratio.toFixed(2)} bytes per byte`,
      );
    };

    for (let i = 0; i < connections; i++) conns.push(await connect());
    log(
      `generating about ${o.sizeMb} MB in ${tableCount} tables of ${o.database} over ${connections} connections`,
    );
    const insertUntilTarget = (c: Connection) => async () => {
      while (planned < sqlTarget) {
        const table = turn++ % tableCount;
        const { sql, rows: n } = insertStatement(
          qualified(tables[table]),
          nextId[table],
          statementBytes,
          rnd,
          literals,
        );
        nextId[table] += n;
        planned += sql.length;
        await c.query(sql);
        committed += sql.length;
        rows += n;
        if (
          checkpoint < CHECKPOINTS.length &&
          committed >= CHECKPOINTS[checkpoint] * sqlTarget &&
          !calibrating
        ) {
          checkpoint++;
          calibrating = calibrate().finally(() => (calibrating = undefined));
        }
        if (Date.now() - lastLog > 10_000) {
          lastLog = Date.now();
          const s = (Date.now() - t0) / 1000;
          log(
            `${rows} rows, ${(committed / MB).toFixed(0)} MB of SQL in ${s.toFixed(0)} s (${(committed / MB / s).toFixed(1)} MB/s)`,
          );
        }
      }
    };
    // A measurement finishing after the last statement may find that more is needed.
    while (planned < sqlTarget) {
      await Promise.all(conns.map((c) => insertUntilTarget(c)()));
      await calibrating;
    }
    const bytes = await sizeOnDisk(admin, o.database, tables);
    const ms = Date.now() - t0;
    log(`${rows} rows, ${(bytes / MB).toFixed(0)} MB on disk in ${(ms / 1000).toFixed(1)} s`);
    return { tables, rows, bytes, ms };
  } finally {
    await Promise.all([admin, ...conns].map((c) => c.end().catch(() => c.destroy())));
  }
}
