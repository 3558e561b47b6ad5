import type { Command } from 'commander';
import { join } from 'node:path';
import {
  CLI_DEV_SERVER_DIR as DATA_DIR,
  devServerStatus,
  startDevServer,
  stopDevServer,
} from '../../temporal/devserver';

const port = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`expected a port 1-65535, got ${v}`);
  return n;
};

const PERSISTENCE = ['sqlite', 'postgres'] as const;
type Persistence = (typeof PERSISTENCE)[number];
const persistence = (v: string): Persistence => {
  if ((PERSISTENCE as readonly string[]).includes(v)) return v as Persistence;
  throw new Error(`expected sqlite (the dev server) or postgres (the production-like server), got ${v}`);
};

// The PostgreSQL-backed server's module is loaded only by the commands that need it.
const pg = () => require('../../temporal/postgres') as typeof import('../../temporal/postgres');

interface StartOpts {
  persistence: Persistence;
  port?: number;
  uiPort?: number;
  pgPort?: number;
  ip: string;
  headless?: boolean;
}

async function startPostgres(o: StartOpts): Promise<void> {
  if (o.ip !== '127.0.0.1')
    throw new Error('--ip: the PostgreSQL-backed server listens on 127.0.0.1 only; leave --ip out');
  const { CLI_POSTGRES_DIR, startPostgresTemporal } = pg();
  const s = await startPostgresTemporal({
    dataDir: CLI_POSTGRES_DIR,
    port: o.port,
    uiPort: o.uiPort,
    pgPort: o.pgPort,
    headless: o.headless,
  });
  const pids = `server pid ${s.pids.server}, PostgreSQL pid ${s.pids.postgres}${s.pids.ui ? `, UI pid ${s.pids.ui}` : ''}`;
  console.log(
    s.alreadyRunning
      ? `Temporal (PostgreSQL) already running (${pids})`
      : `Temporal (PostgreSQL) started in ${(s.startMs / 1000).toFixed(1)} s${s.cold ? ', new database' : ''} (${pids})`,
  );
  console.log(`  address:    ${s.address}   (TEMPORAL_ADDRESS=${s.address})`);
  if (s.uiUrl) console.log(`  UI:         ${s.uiUrl}`);
  console.log(`  PostgreSQL: 127.0.0.1:${s.ports.postgres}, data in ${CLI_POSTGRES_DIR}`);
  console.log(`  profile:    ${s.profile}   (TEMPORAL_CONFIG_FILE=${s.profile})`);
  console.log(`  logs:       ${s.logs.server}, ${s.logs.postgres}${s.uiUrl ? `, ${s.logs.ui}` : ''}`);
}

export function registerTemporal(program: Command): void {
  const t = program
    .command('temporal')
    .description(`the local Temporal dev server (state in ${join(DATA_DIR, 'temporal.sqlite')})`);
  t.command('start')
    .description(
      'start Temporal in the background and register the search attributes: the dev server (SQLite), or with --persistence postgres the real server on a private PostgreSQL (data in .data/postgres)',
    )
    .option(
      '--persistence <kind>',
      'sqlite (the dev server) or postgres (production-like)',
      persistence,
      'sqlite',
    )
    .option('--port <port>', 'gRPC port (default 7233; postgres: the last one used)', port)
    .option('--ui-port <port>', 'Web UI port (default 8233; postgres: the last one used)', port)
    .option(
      '--pg-port <port>',
      'postgres only: PostgreSQL port (default: the last one used, else a free one)',
      port,
    )
    .option('--ip <ip>', 'address to listen on (postgres: 127.0.0.1 only)', '127.0.0.1')
    .option('--headless', 'no Web UI')
    .action(async (o: StartOpts) => {
      if (o.persistence === 'postgres') return startPostgres(o);
      if (o.pgPort !== undefined) throw new Error('--pg-port goes with --persistence postgres');
      const s = await startDevServer({
        dataDir: DATA_DIR,
        dbFilename: join(DATA_DIR, 'temporal.sqlite'),
        port: o.port ?? 7233,
        uiPort: o.uiPort ?? 8233,
        ip: o.ip,
        headless: o.headless,
      });
      console.log(
        s.alreadyRunning
          ? `Temporal dev server already running (pid ${s.pid})`
          : `Temporal dev server started in ${(s.startMs / 1000).toFixed(1)} s (pid ${s.pid}, log ${s.logFile})`,
      );
      console.log(`  address: ${s.address}   (TEMPORAL_ADDRESS=${s.address})`);
      if (s.uiUrl) console.log(`  UI:      ${s.uiUrl}`);
    });
  t.command('status')
    .description(
      'whether the dev server and the PostgreSQL-backed server run and answer; exit 0 running, 1 not answering, 3 stopped',
    )
    .action(async () => {
      const st = await devServerStatus(DATA_DIR);
      const { CLI_POSTGRES_DIR, postgresTemporalStatus } = pg();
      const ps = await postgresTemporalStatus(CLI_POSTGRES_DIR);
      if (st.state === 'stopped') console.log('Temporal dev server: stopped');
      else {
        const s = st.server;
        console.log(`Temporal dev server: ${st.state} (pid ${s.pid}, since ${s.startedAt})`);
        console.log(`  address: ${s.address}`);
        if (s.uiUrl) console.log(`  UI:      ${s.uiUrl}`);
      }
      const r = ps.recorded;
      if (ps.state === 'stopped') console.log('Temporal (PostgreSQL): stopped');
      else {
        const parts = Object.entries(ps.parts).map(([k, v]) => `${k} ${v}`);
        console.log(`Temporal (PostgreSQL): ${ps.state} (${parts.join(', ')}; since ${r.startedAt})`);
        console.log(`  address: ${r.address}`);
        if (r.uiUrl) console.log(`  UI:      ${r.uiUrl}`);
      }
      const states = [st.state === 'stopped' ? 'stopped' : st.state, ps.state];
      if (states.every((s) => s === 'stopped')) process.exitCode = 3;
      else if (states.some((s) => s === 'not answering' || s === 'degraded')) process.exitCode = 1;
    });
  t.command('stop')
    .description(
      'stop what `temporal start` started: the dev server, and the PostgreSQL-backed server with its UI and PostgreSQL (data kept)',
    )
    .option(
      '--purge',
      "also delete the PostgreSQL-backed server's data (.data/postgres): a fresh database next start",
    )
    .action(async (o: { purge?: boolean }) => {
      const r = await stopDevServer(DATA_DIR);
      console.log(
        r.stopped
          ? `Temporal dev server stopped (pid ${r.server?.pid})`
          : 'Temporal dev server was not running',
      );
      const { CLI_POSTGRES_DIR, stopPostgresTemporal } = pg();
      const p = await stopPostgresTemporal(CLI_POSTGRES_DIR, { purge: o.purge });
      console.log(
        p.stopped.length > 0
          ? `Temporal (PostgreSQL) stopped: ${p.stopped.join(', ')}`
          : 'Temporal (PostgreSQL) was not running',
      );
      if (p.purged) console.log(`  data deleted: ${CLI_POSTGRES_DIR}`);
    });
}
