// Where Temporal is, for the CLI, the worker and the webhook receiver. First match wins:
//   1. the CLI's --address and --namespace (setTemporalFlags);
//   2. the environment, read as the temporal CLI reads it (@temporalio/envconfig): TEMPORAL_ADDRESS,
//      TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, and TEMPORAL_CONFIG_FILE or
//      TEMPORAL_PROFILE naming a profile of a config file;
//   3. the lab's profile, .lab/temporal.toml (`lab up` writes it, `lab down` removes it), while
//      the lab's Temporal dev server runs;
//   3b. a server `successover temporal start` runs: the dev server (.data) or the PostgreSQL-backed
//      one (.data/postgres), on whatever port it was given;
//   4. the default profile of the user's temporal config file (~/.config/temporalio/temporal.toml);
//   5. localhost:7233, namespace default.
// A failed connection names the address, where it came from and what to do.
//
// Only types and Node's own modules are imported at the top: the Temporal packages are loaded by
// the functions that connect, so that a CLI command that never connects does not pay for them.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { ClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnection } from '@temporalio/worker';
import { REPO_ROOT } from './binary';

export const DEFAULT_ADDRESS = 'localhost:7233';
export const DEFAULT_NAMESPACE = 'default';
/** The profile `lab up` writes (as `lab` and as `default`, so `temporal --config-file` needs no --profile). */
export const LAB_PROFILE = 'lab';
/** The lab's profile file in a lab directory (the default lab directory is <repo>/.lab). */
export const labProfileFile = (labDir: string) => join(labDir, 'temporal.toml');
export const DEFAULT_LAB_DIR = join(REPO_ROOT, '.lab');

export interface TemporalFlags {
  address?: string;
  namespace?: string;
}

let cliFlags: TemporalFlags = {};
/** The CLI's --address and --namespace, for every connection this process makes. */
export function setTemporalFlags(flags: TemporalFlags): void {
  cliFlags = { ...flags };
}

/** Where the address came from. */
export type TemporalSource =
  | { kind: 'flag' }
  | { kind: 'env'; variable: string }
  | { kind: 'lab'; file: string }
  /** A server `successover temporal start` runs (its state file). */
  | { kind: 'local'; file: string; server: 'dev' | 'postgres' }
  | { kind: 'config'; file: string; profile: string }
  /** staleLab: the lab's profile file, there while its server is not running. */
  | { kind: 'default'; staleLab?: string };

export interface TemporalProfile {
  address?: string;
  namespace?: string;
}

export interface ResolveInput {
  flags: TemporalFlags;
  /** The environment's TEMPORAL_* variables. */
  env: Record<string, string | undefined>;
  /**
   * The profile of the user's config file (TEMPORAL_CONFIG_FILE, else the default path; profile
   * TEMPORAL_PROFILE, else default), without the environment applied.
   */
  user: TemporalProfile & { file: string; profile: string };
  /** The lab's profile, when a lab's Temporal runs. */
  lab?: TemporalProfile & { file: string; address: string };
  /** A server `successover temporal start` runs. */
  local?: { file: string; server: 'dev' | 'postgres'; address: string; namespace: string };
}

export interface Resolved {
  address: string;
  namespace: string;
  source: TemporalSource;
  /** Load the connection's other settings (TLS, API key) from the lab's profile. */
  useLab: boolean;
}

/** The resolution order of this file's header, as a pure function. */
export function resolveTemporal(i: ResolveInput): Resolved {
  const pick = (): Omit<Resolved, 'namespace'> & { namespace?: string } => {
    // An address given outright keeps the rest of the user's profile, as envconfig does.
    if (i.flags.address !== undefined)
      return {
        address: i.flags.address,
        namespace: i.user.namespace,
        source: { kind: 'flag' },
        useLab: false,
      };
    if (i.env.TEMPORAL_ADDRESS !== undefined)
      return {
        address: i.env.TEMPORAL_ADDRESS,
        namespace: i.user.namespace,
        source: { kind: 'env', variable: 'TEMPORAL_ADDRESS' },
        useLab: false,
      };
    const userChoseFile = i.env.TEMPORAL_CONFIG_FILE !== undefined || i.env.TEMPORAL_PROFILE !== undefined;
    // The lab stands in only for an address nobody gave, nor asked a config file for.
    if (i.lab && !userChoseFile)
      return {
        address: i.lab.address,
        namespace: i.lab.namespace,
        source: { kind: 'lab', file: i.lab.file },
        useLab: true,
      };
    if (i.local && !userChoseFile)
      return {
        address: i.local.address,
        namespace: i.local.namespace,
        source: { kind: 'local', file: i.local.file, server: i.local.server },
        useLab: false,
      };
    if (i.user.address !== undefined)
      return {
        address: i.user.address,
        namespace: i.user.namespace,
        source: { kind: 'config', file: i.user.file, profile: i.user.profile },
        useLab: false,
      };
    return {
      address: DEFAULT_ADDRESS,
      namespace: i.user.namespace,
      source: { kind: 'default' },
      useLab: false,
    };
  };
  const r = pick();
  return {
    ...r,
    namespace: i.flags.namespace ?? i.env.TEMPORAL_NAMESPACE ?? r.namespace ?? DEFAULT_NAMESPACE,
  };
}

/** "TEMPORAL_ADDRESS", "the lab's profile .lab/temporal.toml", ... for messages. */
export function describeSource(s: TemporalSource): string {
  switch (s.kind) {
    case 'flag':
      return '--address';
    case 'env':
      return s.variable;
    case 'lab':
      return `the lab's profile ${s.file}, written by \`successover lab up\``;
    case 'local':
      return `the ${s.server === 'dev' ? 'dev server' : 'PostgreSQL-backed server'} \`successover temporal start\` runs (${s.file})`;
    case 'config':
      return `profile ${s.profile} of ${s.file}`;
    case 'default':
      return s.staleLab
        ? `the default: the lab's profile ${s.staleLab} names a server that is not running`
        : 'the default: no --address, TEMPORAL_ADDRESS, running lab or local server, or temporal config file';
  }
}

/** What to do when Temporal at that address does not answer. */
function fixFor(s: TemporalSource): string {
  switch (s.kind) {
    case 'local':
      return 'check it with `successover temporal status` (`successover temporal stop`, then `temporal start`, restarts it)';
    case 'lab':
      return "check the lab's Temporal with `successover lab status` (or bring the lab up again: `successover lab down && successover lab up`)";
    case 'default':
      return s.staleLab
        ? 'see `successover lab status` (`successover lab down`, then `lab up`, brings the lab back), or give an address: --address HOST:PORT or TEMPORAL_ADDRESS'
        : 'start one (`successover lab up`, or `successover temporal start`), or give its address: --address HOST:PORT or TEMPORAL_ADDRESS';
    default:
      return `start that server, or correct ${describeSource(s)}`;
  }
}

const envVars = (env: NodeJS.ProcessEnv): Record<string, string> | undefined =>
  env === process.env
    ? undefined
    : Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));

/** The user's temporal config file (envconfig's choice), for messages. */
function userConfigFile(env: NodeJS.ProcessEnv): string {
  if (env.TEMPORAL_CONFIG_FILE) return env.TEMPORAL_CONFIG_FILE;
  const base = env.XDG_CONFIG_HOME || (env.HOME ? join(env.HOME, '.config') : '~/.config');
  return join(base, 'temporalio', 'temporal.toml');
}

/**
 * The lab's profile in labDir, when both the file and the lab's dev server (the pid file in
 * <labDir>/temporal that temporal/devserver.ts writes) are there and agree on the address.
 */
export function runningLabProfile(labDir: string): ResolveInput['lab'] {
  const file = labProfileFile(labDir);
  if (!existsSync(file)) return undefined;
  const { loadClientConfigProfile } =
    require('@temporalio/envconfig') as typeof import('@temporalio/envconfig');
  const { runningServer } = require('./devserver') as typeof import('./devserver');
  let profile: TemporalProfile;
  try {
    profile = loadClientConfigProfile({
      configSource: { path: file },
      profile: LAB_PROFILE,
      disableEnv: true,
    });
  } catch {
    return undefined;
  }
  const server = runningServer(join(labDir, 'temporal'));
  if (!profile.address || !server || server.address !== profile.address) return undefined;
  return { file, address: profile.address, namespace: profile.namespace };
}

/**
 * The server `successover temporal start` runs in this checkout, when its process still runs: the
 * dev server's pid file in .data, else the PostgreSQL-backed server's state in .data/postgres.
 */
export function runningLocalServer(dataDir = join(REPO_ROOT, '.data')): ResolveInput['local'] {
  const { runningServer } = require('./devserver') as typeof import('./devserver');
  const dev = runningServer(dataDir);
  if (dev)
    return {
      file: join(dataDir, 'temporal.pid'),
      server: 'dev',
      address: dev.address,
      namespace: dev.namespace,
    };
  const { runningPostgresTemporal } = require('./postgres') as typeof import('./postgres');
  const pg = runningPostgresTemporal(join(dataDir, 'postgres'));
  return pg ? { file: pg.file, server: 'postgres', address: pg.address, namespace: pg.namespace } : undefined;
}

export interface TemporalConfig {
  connectionOptions: ClientConnectConfig['connectionOptions'] & { address: string };
  namespace: string;
  source: TemporalSource;
}

/**
 * Where to connect. `labDir`: the lab whose profile counts (default: the repository's .lab when
 * env is process.env; none for any other env, so that a caller's own environment is all it sees).
 */
export function temporalConfig(
  env: NodeJS.ProcessEnv = process.env,
  o: { labDir?: string | null; flags?: TemporalFlags } = {},
): TemporalConfig {
  const { loadClientConfigProfile, loadClientConnectConfig } =
    require('@temporalio/envconfig') as typeof import('@temporalio/envconfig');
  const overrideEnvVars = envVars(env);
  const userProfileName = env.TEMPORAL_PROFILE ?? 'default';
  const user = loadClientConfigProfile({ overrideEnvVars, disableEnv: true });
  const labDir = o.labDir === undefined ? (env === process.env ? DEFAULT_LAB_DIR : null) : o.labDir;
  const flags = o.flags ?? cliFlags;
  // The lab is looked at only when its profile could win.
  const maybeLab =
    labDir !== null &&
    [flags.address, env.TEMPORAL_ADDRESS, env.TEMPORAL_CONFIG_FILE, env.TEMPORAL_PROFILE].every(
      (v) => v === undefined,
    );
  const lab = maybeLab ? runningLabProfile(labDir) : undefined;
  // The servers of this checkout's `temporal start`, looked at like the lab (the repository's own).
  const local = maybeLab && !lab && labDir === DEFAULT_LAB_DIR ? runningLocalServer() : undefined;
  const r = resolveTemporal({
    flags,
    env,
    user: { ...user, file: userConfigFile(env), profile: userProfileName },
    lab,
    local,
  });
  // A lab left behind (its server gone, e.g. after a reboot) explains a default that fails.
  if (r.source.kind === 'default' && maybeLab && !lab && existsSync(labProfileFile(labDir)))
    r.source = { kind: 'default', staleLab: labProfileFile(labDir) };
  const cfg = r.useLab
    ? loadClientConnectConfig({
        configSource: { path: labProfileFile(labDir as string) },
        profile: LAB_PROFILE,
        overrideEnvVars,
      })
    : loadClientConnectConfig({ overrideEnvVars });
  return {
    connectionOptions: { ...cfg.connectionOptions, address: r.address },
    namespace: r.namespace,
    source: r.source,
  };
}

/** The error of a failed connection, with the address, its source and the fix. */
export function connectError(cfg: Pick<TemporalConfig, 'connectionOptions' | 'source'>, e: unknown): Error {
  const why = e instanceof Error ? e.message : String(e);
  return new Error(
    `cannot reach Temporal at ${cfg.connectionOptions.address} (from ${describeSource(cfg.source)}): ${why}; ${fixFor(cfg.source)}`,
  );
}

/** A client for starting and watching runs. Close client.connection when done. */
export async function connectClient(env?: NodeJS.ProcessEnv): Promise<Client> {
  const cfg = temporalConfig(env);
  const { Client, Connection } = require('@temporalio/client') as typeof import('@temporalio/client');
  const connection = await Connection.connect(cfg.connectionOptions).catch((e: unknown) => {
    throw connectError(cfg, e);
  });
  return new Client({ connection, namespace: cfg.namespace });
}

/** The worker's connection, with the namespace it must poll. */
export async function connectWorker(
  env?: NodeJS.ProcessEnv,
): Promise<{ connection: NativeConnection; namespace: string; address: string; source: TemporalSource }> {
  const cfg = temporalConfig(env);
  const { NativeConnection } = require('@temporalio/worker') as typeof import('@temporalio/worker');
  const connection = await NativeConnection.connect(cfg.connectionOptions).catch((e: unknown) => {
    throw connectError(cfg, e);
  });
  return { connection, namespace: cfg.namespace, address: cfg.connectionOptions.address, source: cfg.source };
}
