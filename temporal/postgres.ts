// A production-like Temporal: the real server (temporal-server, built from its Go module) with its
// state in a private PostgreSQL (persistence and SQL visibility), and the Web UI server, started
// and stopped together from one data dir. Unlike the dev server, it is the deployment a team runs:
// schema managed by temporal-sql-tool, history shards, namespaces with a retention, search
// attributes registered through the operator API, and a database that survives restarts.
//
// The data dir holds the state file (temporal-postgres.json: ports and pids), the cluster
// (pgdata/), the configs (server/, ui/), the logs, the role's password (0600) and a client profile
// (temporal.toml) for `temporal --config-file` and TEMPORAL_CONFIG_FILE.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CLI_DEV_SERVER_DIR, portFree } from './devserver';
import { dynamicConfigYaml, IP, type Ports, serverConfigYaml, uiConfigYaml } from './postgresConfig';
import {
  DATABASES,
  dbPassword,
  ensureDatabases,
  initCluster,
  migrateSchema,
  pgOsUser,
  pgPaths,
  pgRunning,
  startPostgres,
  stopPostgres,
} from './postgresDb';
import { choosePorts } from './postgresPorts';
import { isOurProcess, retryUntil, spawnBackground, stopProcess } from './postgresProcs';
import { ensureNamespace, waitForUi, withConnection } from './postgresReady';
import { findTools, latestSchemaVersion } from './postgresTools';

/** `successover temporal start --persistence postgres`'s data dir. */
export const CLI_POSTGRES_DIR = join(CLI_DEV_SERVER_DIR, 'postgres');

export interface PostgresTemporalOptions {
  dataDir: string;
  /** Frontend gRPC port; default the recorded one, else 7233. */
  port?: number;
  /** Web UI port; default the recorded one, else 8233. */
  uiPort?: number;
  /** PostgreSQL's port; default the recorded one, else a free one. */
  pgPort?: number;
  headless?: boolean;
  namespace?: string;
  /** Every process dies with this one, even by SIGKILL (tests). */
  tiedToProcess?: boolean;
  startTimeoutMs?: number;
}

/** What the state file records. */
export interface PostgresTemporal {
  address: string;
  namespace: string;
  uiUrl?: string;
  ports: Ports;
  pids: { postgres?: number; server?: number; ui?: number };
  logs: { postgres: string; server: string; ui: string };
  profile: string;
  startedAt?: string;
}

export interface StartedPostgresTemporal extends PostgresTemporal {
  /** Everything was running already. */
  alreadyRunning: boolean;
  /** initdb ran: the database was created by this start. */
  cold: boolean;
  startMs: number;
  /** Milliseconds per part, for what a start costs. */
  timings: Record<string, number>;
}

const paths = (dir: string) => ({
  state: join(dir, 'temporal-postgres.json'),
  serverDir: join(dir, 'server'),
  serverConfig: join(dir, 'server', 'production.yaml'),
  dynamicConfig: join(dir, 'server', 'dynamic.yaml'),
  uiDir: join(dir, 'ui'),
  uiConfig: join(dir, 'ui', 'config', 'production.yaml'),
  profile: join(dir, 'temporal.toml'),
  logs: { postgres: pgPaths(dir).log, server: join(dir, 'temporal-server.log'), ui: join(dir, 'ui.log') },
});

// Command-line arguments that identify each process as this data dir's.
const serverMarks = (dir: string) => ['--root', dir, 'start'];
const uiMarks = (dir: string) => ['--root', paths(dir).uiDir, 'start'];

function readState(dir: string): Partial<PostgresTemporal> {
  try {
    return JSON.parse(readFileSync(paths(dir).state, 'utf8')) as Partial<PostgresTemporal>;
  } catch {
    return {};
  }
}

const writeState = (dir: string, s: Partial<PostgresTemporal>) =>
  writeFileSync(paths(dir).state, JSON.stringify(s, null, 2) + '\n');

async function mustBeFree(port: number, what: string, flag: string): Promise<void> {
  if (await portFree(port, IP)) return;
  const devHint = what === 'frontend' ? ' (the dev server? `successover temporal stop` stops it)' : '';
  throw new Error(`${what} port ${IP}:${port} is taken${devHint}: free it or choose another with ${flag}`);
}

/**
 * Starts whatever of PostgreSQL, the server and the UI is not running (creating the cluster,
 * databases and schema the first time), waits until each answers, and records them. Idempotent.
 */
export async function startPostgresTemporal(o: PostgresTemporalOptions): Promise<StartedPostgresTemporal> {
  const t0 = Date.now();
  const dir = resolve(o.dataDir);
  const p = paths(dir);
  const namespace = o.namespace ?? 'default';
  const timeoutMs = o.startTimeoutMs ?? 60_000;
  const tools = findTools({ ui: !o.headless });
  mkdirSync(dir, { recursive: true });
  const s = readState(dir);
  const pids = { ...s.pids };
  const ports = await choosePorts(o, s.ports ?? {}, {
    server: isOurProcess(s.pids?.server, serverMarks(dir)),
    ui: isOurProcess(s.pids?.ui, uiMarks(dir)),
    postgres: pgRunning(dir, s.pids?.postgres),
  });
  const address = `${IP}:${ports.frontend}`;
  const state: PostgresTemporal = {
    address,
    namespace,
    uiUrl: o.headless ? undefined : `http://${IP}:${ports.ui}`,
    ports,
    pids,
    logs: p.logs,
    profile: p.profile,
    startedAt: s.startedAt,
  };
  const timings: Record<string, number> = {};
  const timed = async <T>(part: string, fn: () => Promise<T> | T): Promise<T> => {
    const t = Date.now();
    try {
      return await fn();
    } finally {
      timings[part] = Date.now() - t;
    }
  };
  const started: (() => Promise<unknown>)[] = [];
  let cold = false;
  const pg = { dir, pgBin: tools.pgBin, port: ports.postgres };
  try {
    if (!pgRunning(dir, pids.postgres)) {
      const user = pgOsUser();
      cold = await timed('initdb', () => initCluster(dir, tools.pgBin, user));
      await mustBeFree(ports.postgres, 'PostgreSQL', '--pg-port');
      pids.postgres = await timed('postgres', () =>
        startPostgres({ ...pg, user, tied: o.tiedToProcess, timeoutMs }),
      );
      started.push(() => stopPostgres(dir, pids.postgres));
      writeState(dir, state);
    }
    const serverUp = isOurProcess(pids.server, serverMarks(dir));
    if (!serverUp) {
      await timed('schema', () => {
        ensureDatabases(pg);
        for (const [key, db] of Object.entries(DATABASES)) {
          const versioned = tools.schema[key as keyof typeof DATABASES];
          migrateSchema(pg, tools.sqlTool, db, versioned, latestSchemaVersion(versioned) ?? '');
        }
      });
      await mustBeFree(ports.frontend, 'frontend', '--port');
      mkdirSync(p.serverDir, { recursive: true });
      writeFileSync(p.dynamicConfig, dynamicConfigYaml());
      const config = serverConfigYaml({
        ports,
        password: dbPassword(dir),
        dynamicConfigFile: p.dynamicConfig,
      });
      writeFileSync(p.serverConfig, config, { mode: 0o600 });
      const server = await spawnBackground({
        binary: tools.server,
        args: ['--root', dir, '--config', 'server', '--env', 'production', '--allow-no-auth', 'start'],
        logFile: p.logs.server,
        tied: o.tiedToProcess,
      });
      pids.server = server.pid;
      started.push(() => stopProcess(server.pid, serverMarks(dir), 'SIGTERM', 20_000));
      writeState(dir, state);
      await timed('server', () =>
        retryUntil(
          `Temporal server at ${address} (log ${p.logs.server})`,
          timeoutMs,
          () => withConnection(address, (c) => c.workflowService.getSystemInfo({})),
          server.gone,
        ),
      );
    }
    await timed('namespace', () => ensureNamespace(address, namespace, timeoutMs));
    if (!o.headless && !isOurProcess(pids.ui, uiMarks(dir))) {
      await mustBeFree(ports.ui, 'Web UI', '--ui-port');
      mkdirSync(join(p.uiDir, 'config'), { recursive: true });
      writeFileSync(p.uiConfig, uiConfigYaml(ports, namespace));
      const ui = await spawnBackground({
        binary: tools.uiServer as string,
        args: ['--root', p.uiDir, '--config', 'config', '--env', 'production', 'start'],
        logFile: p.logs.ui,
        tied: o.tiedToProcess,
      });
      pids.ui = ui.pid;
      started.push(() => stopProcess(ui.pid, uiMarks(dir)));
      writeState(dir, state);
      await timed('ui', () => waitForUi(state.uiUrl as string, namespace, timeoutMs, ui.gone));
    }
  } catch (e) {
    for (const stop of started.reverse()) await stop();
    throw e;
  }
  if (started.length > 0) state.startedAt = new Date().toISOString();
  writeState(dir, state);
  writeFileSync(p.profile, `[profile.default]\naddress = "${address}"\nnamespace = "${namespace}"\n`);
  return { ...state, alreadyRunning: started.length === 0, cold, startMs: Date.now() - t0, timings };
}

export type PartState = 'running' | 'not answering' | 'stopped';
export interface PostgresTemporalStatus {
  /** stopped: nothing runs; running: every part that should runs and answers; degraded otherwise. */
  state: 'stopped' | 'running' | 'degraded';
  parts: { postgres: PartState; server: PartState; ui?: PartState };
  recorded: Partial<PostgresTemporal>;
}

export async function postgresTemporalStatus(
  dataDir: string,
  timeoutMs = 3000,
): Promise<PostgresTemporalStatus> {
  const dir = resolve(dataDir);
  const s = readState(dir);
  const answers = async (fn: () => Promise<unknown>): Promise<PartState> => {
    try {
      await retryUntil('status', timeoutMs, fn);
      return 'running';
    } catch {
      return 'not answering';
    }
  };
  const parts: PostgresTemporalStatus['parts'] = {
    postgres: pgRunning(dir, s.pids?.postgres) ? 'running' : 'stopped',
    server: isOurProcess(s.pids?.server, serverMarks(dir)) ? 'running' : 'stopped',
  };
  if (s.uiUrl) parts.ui = isOurProcess(s.pids?.ui, uiMarks(dir)) ? 'running' : 'stopped';
  if (parts.server === 'running' && s.address)
    parts.server = await answers(() =>
      withConnection(s.address as string, (c) =>
        c.workflowService.describeNamespace({ namespace: s.namespace }),
      ),
    );
  if (parts.ui === 'running' && s.uiUrl)
    parts.ui = await answers(async () => {
      const r = await fetch(s.uiUrl as string, { signal: AbortSignal.timeout(2000) });
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
    });
  const values = Object.values(parts);
  const state = values.every((v) => v === 'stopped')
    ? 'stopped'
    : values.every((v) => v === 'running')
      ? 'running'
      : 'degraded';
  return { state, parts, recorded: s };
}

/**
 * Stops the UI, the server, then PostgreSQL (fast shutdown: nothing committed is lost), each only
 * if it is the process the state file names. The data stays unless `purge`.
 */
export async function stopPostgresTemporal(
  dataDir: string,
  o: { purge?: boolean } = {},
): Promise<{ stopped: string[]; purged: boolean }> {
  const dir = resolve(dataDir);
  const s = readState(dir);
  const stopped: string[] = [];
  if (await stopProcess(s.pids?.ui, uiMarks(dir))) stopped.push('ui');
  if (await stopProcess(s.pids?.server, serverMarks(dir), 'SIGTERM', 20_000)) stopped.push('server');
  if (await stopPostgres(dir, s.pids?.postgres)) stopped.push('postgres');
  if (o.purge) {
    rmSync(dir, { recursive: true, force: true });
    return { stopped, purged: true };
  }
  // The ports stay recorded: the next start reuses them (the cluster's membership rows name them).
  if (existsSync(paths(dir).state)) writeState(dir, { ...s, pids: {}, startedAt: undefined });
  rmSync(paths(dir).profile, { force: true });
  return { stopped, purged: false };
}

/**
 * The server a data dir records, while its process runs; no connection is made (the CLI asks this
 * at every start to find the server: temporal/connection.ts).
 */
export function runningPostgresTemporal(
  dataDir: string,
): { file: string; address: string; namespace: string } | undefined {
  const dir = resolve(dataDir);
  const s = readState(dir);
  if (!s.address || !isOurProcess(s.pids?.server, serverMarks(dir))) return undefined;
  return { file: paths(dir).state, address: s.address, namespace: s.namespace ?? 'default' };
}
