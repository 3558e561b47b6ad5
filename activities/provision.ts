// Provisioning a replica: inspect the target and the donor, copy a consistent backup from the
// donor to the target over SSH, point the target at its source, follow it as it catches up, and
// compare it with another replica at one GTID position.
//
// The copy streams through the worker: the donor's dump (or physical backup) is read from one
// SSH exec channel and written to another on the target, with backpressure, never stored. The
// worker sees every byte, so it reports progress and, for a dump, counts the rows and reads the
// GTID position the dump carries.
//
// Credentials: a per-run option file ([client] user, password; mode 0600 in a 0700 directory),
// sent over SSH as the stdin of `cat >` and named with --defaults-extra-file. Never a command
// line argument (ps shows those to every user of the host) and never MYSQL_PWD: it needs
// `AcceptEnv` in every host's sshd_config, mariadb-backup and xtrabackup do not all read it, and
// MySQL deprecated it. The file is removed when the copy ends, by the next attempt, and by
// startReplica.
//
// The GTID position. A logical dump's is mariadb-dump's --master-data line: @@gtid_binlog_pos read
// under FLUSH TABLES WITH READ LOCK as the snapshot starts. On a donor that is a replica that is
// right only with log_slave_updates (its binlog then holds every replicated transaction with its
// original GTID, so gtid_binlog_pos = what it applied); without it the copy is refused. Not
// gtid_slave_pos (--dump-slave): it stops the donor's SQL thread for the whole dump. A physical
// backup's is the GTID mariadb-backup writes in xtrabackup_binlog_info, read under BACKUP STAGE
// BLOCK_COMMIT. Either becomes the target's gtid_slave_pos, with its binlog left empty: the
// restore writes no binlog (sql_log_bin=0), so the target has no GTIDs of its own.
//
// Accounts. A logical copy restores user schemas only, never the mysql schema over the target's:
// the target keeps its own accounts (the worker's among them) and gets the donor's other accounts
// created one by one (copyAccounts). A physical copy brings the donor's mysql schema whole, which
// is right for a replica: in a replicated cluster the donor's accounts are the primary's.
//
// The commands need, on each host, the SSH user to run the tools, write beside the datadir and
// (physical) own the datadir's files: root in practice; and flock (util-linux).
//
// An in-progress marker is written on the target before anything is changed there: a file
// beside the datadir (`<datadir>.successover/provision.json`), outside it so a physical copy
// that empties the datadir keeps it, and a file so a worker crash cannot roll it back. While it
// is there the target is a half-restored server, never a replica: a retry of copyBackup that
// finds it wipes what the last attempt restored and copies again; startReplica removes it once
// replication runs.
import { Socket } from 'node:net';
import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import type { PoolConnection } from 'mysql2/promise';
import type { ClientChannel } from 'ssh2';
import { dialectFor, type Dialect, type ReplicationStatus, type Statement } from '../domain/dialects';
import {
  type Account,
  clientOptionFile,
  parseDfAvailable,
  type ClientEndpoint,
  type UserSchema,
} from '../domain/dialects/backup';
import { quoteIdentifier } from '../domain/dialects/escape';
import { gtidOps } from '../domain/gtid';
import { gtidCommonPosition, gtidDistance } from '../domain/gtid/distance';
import type { Cluster, Host } from '../domain/inventory';
import type { ProvisionMethod } from '../domain/provision/method';
import type { ProvisionDonorFacts, ProvisionTargetFacts } from '../domain/provision/preflight';
import type { ActivityDeps } from './deps';
import { DumpScanner } from './dumpScanner';
import { ErrorType, classifySqlError, nonRetryable, retryable } from './errors';
import { failpoint } from './failpoints';
import { clusterOf, hostOf } from './lookup';
import { createSqlActivities } from './sql';
import type { SqlPools } from './sql/pools';
import { execute, probe } from './sql/run';
import { shellCommand, shellQuote, type SshPool } from './ssh';
import { Bounded } from './sshShell';

// The facts' shapes are the decision code's (domain/provision), so the two cannot drift apart.
export type ProvisionTargetState = ProvisionTargetFacts;
export type ProvisionMarker = NonNullable<ProvisionTargetFacts['inProgressMarker']>;
export type DonorState = ProvisionDonorFacts;

export interface CopyBackupInput {
  cluster: string;
  donor: string;
  target: string;
  method: ProvisionMethod;
  /** Replace what the target holds; without it a target with user data or a source is refused. */
  wipe: boolean;
  /** No byte from the donor for this long fails the attempt (a stuck dump); default 600. */
  stallSeconds?: number;
}

export interface CopyPhase {
  name: string;
  ms: number;
}

export interface AccountsCopied {
  /** Donor accounts (and roles) the target lacked, now created. */
  created: number;
  /** "user@host: why" for each one that could not be read on the donor or created on the target. */
  skipped: string[];
}

export interface CopyBackupResult {
  method: ProvisionMethod;
  /** Bytes streamed from the donor to the target. */
  bytes: number;
  /** Rows in the dump's INSERTs (logical); null for a physical copy. */
  rows: number | null;
  /** The backup's GTID position, now the target's replica position. */
  gtidPosition: string;
  ms: number;
  phases: CopyPhase[];
  /** Logical copies of a flavor that copies accounts; null otherwise (a physical copy has them all). */
  accounts: AccountsCopied | null;
}

export interface CopyProgress {
  phase: string;
  bytesCopied: number;
  totalBytesEstimate: number;
}

export interface ReplicationProgress {
  ioRunning: string | null;
  sqlRunning: boolean | null;
  lastError: string | null;
  lagSeconds: number | null;
  /** Transactions the host lacks of the primary's position (per domain, summed). */
  gtidDistance: number;
}

export interface TableComparison {
  name: string;
  reference: string | null;
  host: string | null;
  equal: boolean;
  rows: number;
}

export interface ChecksumResult {
  position: string;
  tables: TableComparison[];
  equal: boolean;
}

export interface ProvisionShared {
  pools: SqlPools;
  ssh: SshPool | undefined;
}

type ServiceSpec = NonNullable<Host['service']>;

const MARKER = 'provision.json';
const LOCK = 'lock';
const DEFAULT_STALL_SECONDS = 600;
const SERVER_STOP_TIMEOUT_MS = 120_000;
const SERVER_START_TIMEOUT_MS = 300_000;
/** How long a target command waits for the previous attempt's leftover (see `locked`). */
const LOCK_WAIT_SECONDS = 120;
const UNTIL_TIMEOUT_MS = 120_000;

const trimSlash = (p: string) => (p.length > 1 ? p.replace(/\/+$/, '') : p);
/** The run's directory on a host: beside the datadir, never inside it (a datadir subdirectory is a schema). */
const workdirOf = (datadir: string) => `${trimSlash(datadir)}.successover`;
const msg = (e: unknown) => (e instanceof Error ? e.message : String(e));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs a target command under the run directory's lock. A worker that dies mid-copy leaves the
 * target's mbstream or mariadb running until it reads the end of its input, and a prepare running
 * to its end: the next attempt's commands wait for them instead of racing them.
 */
const locked = (workdir: string, command: string) =>
  `flock -w ${LOCK_WAIT_SECONDS} ${shellQuote(`${workdir}/${LOCK}`)} ${command}`;

export function createProvisionActivities(deps: ActivityDeps, shared: ProvisionShared) {
  const { pools } = shared;
  const sql = createSqlActivities(deps, { pools }).activities;

  function lookup(ref: { cluster: string; host: string }): {
    cluster: Cluster;
    host: Host;
    dialect: Dialect;
  } {
    const cluster = clusterOf(deps.inventory, ref.cluster);
    return { cluster, host: hostOf(cluster, ref.host), dialect: dialectFor(cluster.flavor) };
  }

  async function on<T>(host: Host, operation: string, fn: (c: PoolConnection) => Promise<T>): Promise<T> {
    try {
      return await pools.with(host, fn);
    } catch (err) {
      throw classifySqlError(host.name, operation, err);
    }
  }

  /**
   * `on`, tried again on a transient failure: right after a restart the pool may still hand out a
   * connection to the stopped server, and failing there would throw away a whole copy.
   */
  async function onPatiently<T>(
    host: Host,
    operation: string,
    fn: (c: PoolConnection) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await on(host, operation, fn);
      } catch (e) {
        if (attempt >= 5 || (e as { nonRetryable?: boolean }).nonRetryable) throw e;
        await sleep(500);
      }
    }
  }

  function sshPool(host: Host): SshPool {
    if (!shared.ssh)
      throw nonRetryable(
        ErrorType.BadConfiguration,
        `provisioning ${host.name} runs commands over SSH: add credentials.ssh (user, privateKeyFile) to the inventory`,
      );
    if (!host.ssh)
      throw nonRetryable(
        ErrorType.BadConfiguration,
        `provisioning runs commands on ${host.name} over SSH: add ssh.hostKey to host ${host.name}`,
      );
    return shared.ssh;
  }

  /** A command on its own channel; a non-zero exit fails with the command's stderr, naming the step. */
  async function remote(host: Host, what: string, command: string, timeoutMs = 60_000): Promise<string> {
    const r = await sshPool(host).exec(host, command, { timeoutMs, ownChannel: true });
    if (r.code !== 0)
      throw retryable(
        ErrorType.Unreachable,
        `${what} on ${host.name} failed (exit ${r.code ?? r.signal}): ${tail(r.stderr || r.stdout)}`,
      );
    return r.stdout;
  }

  /** Writes `content` to `path` through stdin (never the command line), atomically, mode 0600. */
  async function writeFile(host: Host, path: string, content: string): Promise<void> {
    const dir = path.slice(0, path.lastIndexOf('/'));
    const tmp = `${path}.tmp`;
    const command = `umask 077 && mkdir -p ${shellQuote(dir)} && cat > ${shellQuote(tmp)} && mv -f ${shellQuote(tmp)} ${shellQuote(path)}`;
    const channel = await sshPool(host).openChannel(host, command);
    const done = finished(channel, { drainStdout: true });
    channel.end(content);
    const r = await done;
    if (r.code !== 0)
      throw retryable(ErrorType.Unreachable, `writing ${path} on ${host.name} failed: ${tail(r.stderr)}`);
  }

  async function readMarker(host: Host, workdir: string): Promise<ProvisionMarker | null> {
    const path = `${workdir}/${MARKER}`;
    const r = await sshPool(host).exec(
      host,
      `if [ -e ${shellQuote(path)} ]; then cat ${shellQuote(path)}; else echo absent; fi`,
      {
        timeoutMs: 30_000,
      },
    );
    if (r.code !== 0)
      throw retryable(ErrorType.Unreachable, `reading ${path} on ${host.name}: ${tail(r.stderr)}`);
    if (r.stdout.trim() === 'absent') return null;
    try {
      const m = JSON.parse(r.stdout) as Partial<ProvisionMarker>;
      return {
        method: String(m.method ?? 'unknown'),
        donor: String(m.donor ?? 'unknown'),
        startedAt: String(m.startedAt ?? ''),
      };
    } catch {
      // Half written by a crash (written with mv, so unlikely): still a marker.
      return { method: 'unknown', donor: 'unknown', startedAt: '' };
    }
  }

  /** The datadir a run works beside: the inventory's service.datadir, else the server's @@datadir. */
  async function datadirOf(host: Host): Promise<string | null> {
    const service = host.service ?? null;
    if (service) return trimSlash(service.datadir);
    try {
      return await on(host, 'read datadir', async (c) => serverDatadir(c));
    } catch {
      return null;
    }
  }

  async function serverDatadir(c: PoolConnection): Promise<string> {
    const [rows] = await c.query('SELECT @@datadir AS d');
    return trimSlash(String((rows as { d: string }[])[0].d));
  }

  async function inspectTarget(
    cluster: Cluster,
    host: Host,
    dialect: Dialect,
  ): Promise<ProvisionTargetState> {
    const service = host.service ?? null;
    let server: {
      readOnly: boolean;
      version: string;
      replication: ReplicationStatus | null;
      current: string;
      binlog: string;
      schemas: UserSchema[];
      datadir: string;
    } | null = null;
    try {
      server = await on(host, 'inspect provisioning target', async (c) => {
        const facts = await probe(c, dialect.nodeFacts());
        const replication = await probe(c, dialect.replicationStatus());
        const gtid = await probe(c, dialect.gtidPosition());
        const schemas = await probe(c, dialect.backup.userSchemas());
        return {
          readOnly: facts.readOnly || facts.superReadOnly === true,
          version: facts.version,
          replication,
          current: gtid.current,
          binlog: gtid.position,
          schemas,
          datadir: await serverDatadir(c),
        };
      });
    } catch {
      server = null;
    }
    const datadir = service ? trimSlash(service.datadir) : (server?.datadir ?? null);
    let diskFreeBytes: number | null = null;
    let marker: ProvisionMarker | null = null;
    if (datadir && shared.ssh && host.ssh) {
      const df = await sshPool(host).exec(host, `df -Pk ${shellQuote(datadir)}`, { timeoutMs: 30_000 });
      if (df.code === 0) diskFreeBytes = parseDfAvailable(df.stdout);
      marker = await readMarker(host, workdirOf(datadir));
    }
    const r = server?.replication ?? null;
    return {
      reachable: server !== null,
      readOnly: server?.readOnly ?? null,
      version: server?.version ?? null,
      replication: r
        ? {
            source: sourceName(cluster, r),
            ioRunning: r.ioRunning,
            sqlRunning: r.sqlRunning === 'yes',
            lastError: r.lastSqlError || r.lastIoError || null,
          }
        : null,
      gtidCurrentPos: server?.current ?? '',
      gtidBinlogPos: server?.binlog ?? '',
      userSchemas: server?.schemas.map((s) => s.name) ?? [],
      dataBytes: server?.schemas.reduce((n, s) => n + s.bytes, 0) ?? 0,
      diskFreeBytes,
      datadir,
      serviceConfigured: service !== null,
      inProgressMarker: marker,
    };
  }

  async function inspectDonorHost(
    host: Host,
    dialect: Dialect,
  ): Promise<DonorState & { logReplicaUpdates: boolean | null; replicating: boolean; userBytes: number }> {
    const facts = await on(host, 'inspect donor', async (c) => {
      const node = await probe(c, dialect.nodeFacts());
      const replication = await probe(c, dialect.replicationStatus());
      const schemas = await probe(c, dialect.backup.userSchemas());
      const dataBytes = await probe(c, dialect.backup.totalDataBytes());
      return {
        version: node.version,
        logReplicaUpdates: node.logReplicaUpdates,
        replicating: replication !== null,
        schemas,
        dataBytes,
        datadir: await serverDatadir(c),
      };
    });
    let hasBackupTool = false;
    if (shared.ssh && host.ssh) {
      const r = await sshPool(host).exec(
        host,
        `command -v ${shellQuote(dialect.backup.physicalTools.donor)}`,
        { timeoutMs: 30_000 },
      );
      hasBackupTool = r.code === 0 && r.stdout.trim() !== '';
    }
    return {
      dataBytes: facts.dataBytes,
      tables: facts.schemas.reduce((n, s) => n + s.tables, 0),
      rowsEstimate: facts.schemas.reduce((n, s) => n + s.rowsEstimate, 0),
      version: facts.version,
      datadir: facts.datadir,
      hasMariadbBackup: hasBackupTool,
      logReplicaUpdates: facts.logReplicaUpdates,
      replicating: facts.replicating,
      userBytes: facts.schemas.reduce((n, s) => n + s.bytes, 0),
    };
  }

  /** True when something on the host runs with the datadir as its working directory (mariadbd does). */
  async function serverProcessIn(host: Host, datadir: string): Promise<boolean> {
    const out = await remote(
      host,
      'look for a server in the datadir',
      `for p in /proc/[0-9]*; do [ "$(readlink "$p/cwd" 2>/dev/null)" = ${shellQuote(datadir)} ] && echo "\${p#/proc/}"; done; true`,
    );
    return out.trim() !== '';
  }

  async function answers(host: Host): Promise<boolean> {
    try {
      await pools.with(host, (c) => c.query('SELECT 1'));
      return true;
    } catch {
      return false;
    }
  }

  /** The server's port accepts TCP (a new connection: the pool may hold stale ones). */
  function portOpen(host: Host): Promise<boolean> {
    return new Promise((resolve) => {
      const s = new Socket();
      const done = (ok: boolean) => {
        s.destroy();
        resolve(ok);
      };
      s.setTimeout(2000, () => done(false));
      s.once('connect', () => done(true));
      s.once('error', () => done(false));
      s.connect(host.port, host.address);
    });
  }

  async function stopServer(host: Host, service: ServiceSpec, datadir: string): Promise<void> {
    await remote(host, 'service.stopCommand', service.stopCommand, SERVER_STOP_TIMEOUT_MS);
    const until = Date.now() + SERVER_STOP_TIMEOUT_MS;
    // The port closes early in a shutdown; InnoDB writes its files until the process is gone.
    while ((await portOpen(host)) || (await serverProcessIn(host, datadir))) {
      if (Date.now() > until)
        throw retryable(
          ErrorType.Timeout,
          `${host.name}: the server still runs in ${datadir} ${SERVER_STOP_TIMEOUT_MS / 1000} s after service.stopCommand`,
        );
      await sleep(500);
    }
  }

  async function startServer(host: Host, service: ServiceSpec): Promise<void> {
    await remote(host, 'service.startCommand', service.startCommand, SERVER_START_TIMEOUT_MS);
    const until = Date.now() + SERVER_START_TIMEOUT_MS;
    while (!(await answers(host))) {
      if (Date.now() > until)
        throw retryable(
          ErrorType.Timeout,
          `${host.name}: the server did not answer within ${SERVER_START_TIMEOUT_MS / 1000} s after service.startCommand (see its error log)`,
        );
      await sleep(500);
    }
  }

  /**
   * Pipes `from`'s stdout into `to`'s stdin, `prelude` first, with backpressure; resolves when
   * both commands exited 0. Cancellation or a stall closes both channels: the remote processes
   * then read the end of their input or fail writing to a closed pipe.
   */
  async function pipe(o: {
    donor: Host;
    donorCommand: string;
    target: Host;
    targetCommand: string;
    prelude?: string;
    onData(chunk: Buffer): void;
    signal: AbortSignal;
    stallMs: number;
  }): Promise<void> {
    const dst = await sshPool(o.target).openChannel(o.target, o.targetCommand);
    let src: ClientChannel;
    try {
      src = await sshPool(o.donor).openChannel(o.donor, o.donorCommand);
    } catch (e) {
      dst.close();
      throw e;
    }
    const srcDone = finished(src, { drainStdout: false });
    const dstDone = finished(dst, { drainStdout: true });
    if (o.prelude) dst.write(o.prelude);
    let failure: Error | undefined;
    let stopped = false;
    let srcEnded = false;
    const stop = (e: Error) => {
      failure ??= e;
      stopped = true;
      // ssh2 emits a channel's 'close' only after its stdout ended: a source paused for
      // backpressure must flow again (into nothing) or the copy would wait for it forever.
      src.resume();
      src.close();
      dst.close();
    };
    let stall: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(stall);
      stall = setTimeout(
        () =>
          stop(
            retryable(
              ErrorType.Timeout,
              `no data from ${o.donor.name} for ${o.stallMs / 1000} s: the copy stalled`,
            ),
          ),
        o.stallMs,
      );
    };
    const onAbort = () => stop(new CancelledFailure('copy cancelled'));
    if (o.signal.aborted) onAbort();
    o.signal.addEventListener('abort', onAbort);
    arm();
    src.on('data', (chunk: Buffer) => {
      if (stopped) return;
      arm();
      o.onData(chunk);
      if (!dst.write(chunk)) {
        src.pause();
        dst.once('drain', () => src.resume());
      }
    });
    src.on('end', () => {
      srcEnded = true;
      if (!stopped) dst.end();
    });
    try {
      // Whichever side ends first with a failure stops the other: a dead target must not leave
      // the donor streaming into nothing, and a failed dump must not look complete.
      const [s, d] = await Promise.all([
        srcDone.then((r) => {
          if (r.code !== 0)
            stop(
              retryable(
                ErrorType.Unreachable,
                `${o.donor.name}: the backup command failed (exit ${r.code ?? r.signal}): ${tail(r.stderr)}`,
              ),
            );
          return r;
        }),
        dstDone.then((r) => {
          if (r.code === 0 && !srcEnded)
            stop(
              retryable(
                ErrorType.Unreachable,
                `${o.target.name}: the restore command ended before the backup did: ${tail(r.stderr)}`,
              ),
            );
          else if (r.code !== 0)
            stop(
              retryable(
                ErrorType.Unreachable,
                `${o.target.name}: the restore command failed (exit ${r.code ?? r.signal}): ${tail(r.stderr)}`,
              ),
            );
          return r;
        }),
      ]);
      if (failure) throw failure;
      if (s.code !== 0 || d.code !== 0) throw retryable(ErrorType.Unreachable, 'the copy stream failed');
    } finally {
      clearTimeout(stall);
      o.signal.removeEventListener('abort', onAbort);
    }
  }

  const activities = {
    /** What the target is now, read-only: whether it may be provisioned, and a marker of a copy under way. */
    async inspectProvisionTarget(input: { cluster: string; host: string }): Promise<ProvisionTargetState> {
      const { cluster, host, dialect } = lookup(input);
      return inspectTarget(cluster, host, dialect);
    },

    async inspectDonor(input: { cluster: string; host: string }): Promise<DonorState> {
      const { host, dialect } = lookup(input);
      const {
        logReplicaUpdates: _l,
        replicating: _r,
        userBytes: _u,
        ...state
      } = await inspectDonorHost(host, dialect);
      return state;
    },

    async copyBackup(input: CopyBackupInput): Promise<CopyBackupResult> {
      const ctx = Context.current();
      const started = Date.now();
      const { cluster, host: target, dialect } = lookup({ cluster: input.cluster, host: input.target });
      const donor = hostOf(cluster, input.donor);
      const backup = dialect.backup;
      if (input.method !== 'logical' && input.method !== 'physical')
        throw nonRetryable(
          ErrorType.BadConfiguration,
          `copyBackup: method ${JSON.stringify(input.method)}: expected logical or physical`,
        );
      if (donor.name === target.name)
        throw nonRetryable(ErrorType.BadConfiguration, `copyBackup: ${target.name} cannot be its own donor`);
      sshPool(donor);
      sshPool(target);
      const service = target.service ?? null;
      const progress: CopyProgress = { phase: 'inspect', bytesCopied: 0, totalBytesEstimate: 0 };
      const beat = () => ctx.heartbeat({ ...progress });
      beat();
      const beating = setInterval(beat, 1000);
      const phases: CopyPhase[] = [];
      const phase = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
        if (ctx.cancellationSignal.aborted) throw new CancelledFailure('copy cancelled');
        progress.phase = name;
        beat();
        const t0 = Date.now();
        const r = await fn();
        phases.push({ name, ms: Date.now() - t0 });
        return r;
      };
      try {
        // 1. Look before touching anything: every refusal leaves the target as it was.
        const [donorState, targetState] = await phase('inspect', () =>
          Promise.all([inspectDonorHost(donor, dialect), inspectTarget(cluster, target, dialect)]),
        );
        progress.totalBytesEstimate =
          input.method === 'logical' ? donorState.userBytes : donorState.dataBytes;
        const datadir = targetState.datadir;
        if (!datadir)
          throw retryable(
            ErrorType.Unreachable,
            `copyBackup: the datadir of ${target.name} is unknown: its server does not answer and the inventory has no service.datadir for it`,
          );
        const workdir = workdirOf(datadir);
        const marker = targetState.inProgressMarker;
        const refuse = (why: string) => {
          throw nonRetryable(ErrorType.Refused, `copyBackup to ${target.name}: ${why}; nothing was changed`);
        };
        if (!marker && !input.wipe && targetState.userSchemas.length > 0)
          refuse(
            `it holds data (schemas ${targetState.userSchemas.join(', ')}): pass wipe: true to replace it`,
          );
        if (!marker && !input.wipe && targetState.replication)
          refuse(
            `it replicates from ${targetState.replication.source ?? 'a source'}: pass wipe: true to replace it`,
          );
        if (input.method === 'physical' && !service)
          refuse(
            `a physical copy stops and starts its server: add service (datadir, startCommand, stopCommand) to host ${target.name}`,
          );
        if (input.method === 'physical' && !donorState.hasMariadbBackup)
          refuse(`${backup.physicalTools.donor} is not installed on the donor ${donor.name}`);
        if (input.method === 'physical' && !donorState.datadir)
          refuse(`the datadir of the donor ${donor.name} is unknown`);
        if (input.method === 'physical' && targetState.reachable && service) {
          const live = await on(target, 'read datadir', (c) => serverDatadir(c));
          // The datadir is emptied: it must be this server's, not a mistyped path.
          if (live !== trimSlash(service.datadir))
            refuse(
              `its server runs in ${live} but service.datadir says ${service.datadir}: correct the inventory`,
            );
        }
        if (input.method === 'physical' && !targetState.reachable && !marker && !input.wipe)
          refuse(
            `its server does not answer, so whether it holds data is unknown: pass wipe: true to replace it`,
          );
        if (input.method === 'physical' && !targetState.reachable && !marker && service) {
          // Its server is down, so @@datadir cannot vouch for the path that is about to be emptied.
          const d = shellQuote(trimSlash(service.datadir));
          const looks = await sshPool(target).exec(
            target,
            `[ -d ${d} ] && { [ -z "$(ls -A ${d})" ] || [ -e ${d}/mysql ] || [ -e ${d}/ibdata1 ] || [ -e ${d}/aria_log_control ]; }`,
            { timeoutMs: 30_000 },
          );
          if (looks.code !== 0)
            refuse(
              `service.datadir ${service.datadir} is neither empty nor a server's datadir: correct the inventory`,
            );
        }
        if (input.method === 'logical' && !targetState.reachable) {
          if (marker?.method === 'physical')
            refuse(
              'the previous attempt was a physical copy and left its server stopped: retry with method physical',
            );
          throw retryable(ErrorType.Unreachable, `copyBackup: the server on ${target.name} does not answer`);
        }
        if (input.method === 'logical' && donorState.replicating && donorState.logReplicaUpdates === false)
          refuse(
            `the donor ${donor.name} replicates without log_slave_updates: its binlog position would not cover what it replicated; choose another donor or the physical method`,
          );

        // 2. The marker, before the first change on the target.
        await phase('marker', () =>
          writeFile(
            target,
            `${workdir}/${MARKER}`,
            JSON.stringify({
              method: input.method,
              donor: donor.name,
              startedAt: new Date().toISOString(),
            } satisfies ProvisionMarker) + '\n',
          ),
        );
        const donorWorkdir = workdirOf(donorState.datadir ?? `/tmp/successover-donor-${donor.name}`);
        const donorEndpoint: ClientEndpoint = {
          optionFile: `${donorWorkdir}/donor.cnf`,
          host: donor.address,
          port: donor.port,
        };
        const targetEndpoint: ClientEndpoint = {
          optionFile: `${workdir}/target.cnf`,
          host: target.address,
          port: target.port,
        };
        await phase('credentials', async () => {
          const file = clientOptionFile(deps.secrets.mysql);
          await Promise.all([
            writeFile(donor, donorEndpoint.optionFile, file),
            writeFile(target, targetEndpoint.optionFile, file),
          ]);
        });
        const stallMs = (input.stallSeconds ?? DEFAULT_STALL_SECONDS) * 1000;
        let killPointArmed = true;
        const counted = (chunk: Buffer) => {
          progress.bytesCopied += chunk.length;
          // Fault injection for the resumability tests: a worker killed mid-copy.
          if (killPointArmed && progress.bytesCopied * 3 > progress.totalBytesEstimate) {
            killPointArmed = false;
            failpoint('provision-mid-copy');
          }
        };
        try {
          let position: string;
          let rows: number | null = null;
          let accounts: AccountsCopied | null = null;
          if (input.method === 'logical') {
            // A restore client of an interrupted attempt may still be applying what it had read.
            await phase('wait for a previous attempt', () =>
              remote(
                target,
                'wait for a previous restore',
                locked(workdir, 'true'),
                (LOCK_WAIT_SECONDS + 10) * 1000,
              ),
            );
            await phase('prepare target', () =>
              on(target, 'prepare the target for a restore', async (c) => {
                const schemas = await probe(c, backup.userSchemas());
                const replicating = (await probe(c, dialect.replicationStatus())) !== null;
                const version = (await probe(c, dialect.nodeFacts())).version;
                // Dropped unlogged: the new replica must have no GTIDs of its own.
                await execute(c, [
                  { sql: 'SET SESSION sql_log_bin=0', redacted: 'SET SESSION sql_log_bin=0' },
                ]);
                try {
                  await execute(
                    c,
                    schemas.map((s) => backup.dropSchema(s.name)),
                  );
                } finally {
                  await execute(c, [
                    { sql: 'SET SESSION sql_log_bin=1', redacted: 'SET SESSION sql_log_bin=1' },
                  ]);
                }
                await execute(c, [
                  ...backup.resetForRestore(version, replicating),
                  ...backup.restoreWritable(),
                ]);
              }),
            );
            const donorSchemas = (
              await on(donor, 'list user schemas', (c) => probe(c, backup.userSchemas()))
            ).map((s) => s.name);
            const scanner = new DumpScanner(backup);
            await phase('stream', () =>
              pipe({
                donor,
                donorCommand: shellCommand(backup.logicalDump(donorEndpoint, donorSchemas)),
                target,
                targetCommand: locked(workdir, shellCommand(backup.restoreClient(targetEndpoint))),
                prelude: backup.restorePrelude(),
                onData: (chunk) => {
                  counted(chunk);
                  scanner.push(chunk);
                },
                signal: ctx.cancellationSignal,
                stallMs,
              }),
            );
            scanner.end();
            if (scanner.position === null)
              throw nonRetryable(
                ErrorType.SqlError,
                `the dump from ${donor.name} carried no GTID position (${backup.dumpPositionMarker}...): is binary logging on there?`,
              );
            position = scanner.position;
            rows = scanner.rows;
            accounts = await phase('accounts', () => copyAccounts(donor, target, dialect));
            await phase('set position', () =>
              setPosition(target, dialect, position, { writableDuringRestore: true }),
            );
          } else {
            const svc = service as ServiceSpec;
            const targetDatadir = trimSlash(svc.datadir);
            await phase('stop target', async () => {
              if (
                targetState.reachable ||
                (await portOpen(target)) ||
                (await serverProcessIn(target, targetDatadir))
              )
                await stopServer(target, svc, targetDatadir);
            });
            await phase('empty datadir', () =>
              remote(
                target,
                'empty the datadir',
                locked(workdir, `find ${shellQuote(targetDatadir)} -mindepth 1 -delete`),
                SERVER_STOP_TIMEOUT_MS,
              ),
            );
            await phase('stream', () =>
              pipe({
                donor,
                donorCommand: shellCommand(
                  backup.physicalBackup(donorEndpoint, donorState.datadir as string),
                ),
                target,
                targetCommand: locked(workdir, shellCommand(backup.physicalExtract(targetDatadir))),
                onData: counted,
                signal: ctx.cancellationSignal,
                stallMs,
              }),
            );
            await phase('prepare', () =>
              remote(
                target,
                `${backup.physicalTools.donor} --prepare`,
                locked(workdir, `${shellCommand(backup.physicalPrepare(targetDatadir))} 2>&1`),
                6 * 3600_000,
              ),
            );
            const info = await phase('read backup position', async () => {
              const names = backup.binlogInfoFiles.map((f) => shellQuote(`${targetDatadir}/${f}`)).join(' ');
              const text = await remote(
                target,
                'read the backup position',
                `for f in ${names}; do if [ -e "$f" ]; then cat "$f"; exit 0; fi; done; exit 1`,
              );
              return backup.parseBinlogInfo(text);
            });
            position = info.gtid;
            await phase('ownership', () =>
              remote(
                target,
                'remove the donor state and give the files to the server',
                [
                  ...backup.donorStateFiles.map((f) => `rm -f ${shellQuote(`${targetDatadir}/${f}`)}`),
                  // Owned by whoever owns the datadir itself, which was kept: the server's user.
                  `chown -R "$(stat -c %u:%g ${shellQuote(targetDatadir)})" ${shellQuote(targetDatadir)}`,
                ].join(' && '),
                SERVER_STOP_TIMEOUT_MS,
              ),
            );
            await phase('start target', () => startServer(target, svc));
            await phase('set position', () =>
              setPosition(target, dialect, position, { writableDuringRestore: false }),
            );
          }
          return {
            accounts,
            method: input.method,
            bytes: progress.bytesCopied,
            rows,
            gtidPosition: position,
            ms: Date.now() - started,
            phases,
          };
        } finally {
          // The account's option files go whatever happened; the marker stays until startReplica.
          await Promise.allSettled([
            remote(donor, 'remove the option file', `rm -rf ${shellQuote(donorWorkdir)}`),
            remote(target, 'remove the option file', `rm -f ${shellQuote(targetEndpoint.optionFile)}`),
          ]);
        }
      } finally {
        clearInterval(beating);
      }
    },

    /**
     * Points the host at `source` from `gtidPosition` (when it is not past it already), starts
     * replication and removes the in-progress marker. Idempotent: a host already replicating from
     * the source is left running.
     */
    async startReplica(input: {
      cluster: string;
      host: string;
      source: string;
      gtidPosition: string;
    }): Promise<{ source: string }> {
      const { cluster, host, dialect } = lookup(input);
      const source = hostOf(cluster, input.source);
      const ops = gtidOps(cluster.flavor);
      await on(host, 'check the replica position', async (c) => {
        const status = await probe(c, dialect.replicationStatus());
        const applied = status ? status.gtidExecuted : (await probe(c, dialect.gtidPosition())).current;
        const relation = ops.compare(applied, input.gtidPosition);
        if (relation === 'diverged')
          throw nonRetryable(
            ErrorType.Refused,
            `startReplica ${host.name}: its position ${applied} diverged from the backup's ${input.gtidPosition}: copy the backup again`,
          );
        // Behind: copyBackup's last step did not run or was undone. Ahead or equal: it replicated
        // already, and setting the position again would replay what it applied.
        if (relation === 'behind') {
          const version = (await probe(c, dialect.nodeFacts())).version;
          await execute(c, [
            ...(status ? dialect.stopAndForgetReplication() : []),
            ...dialect.backup.setReplicaPosition(input.gtidPosition, version),
          ]);
        }
      });
      await sql.repoint({ cluster: input.cluster, host: host.name, source: source.name });
      // Only now is it a replica: the marker goes last.
      if (shared.ssh && host.ssh) {
        const datadir = await datadirOf(host);
        if (datadir)
          await remote(host, 'remove the provisioning marker', `rm -rf ${shellQuote(workdirOf(datadir))}`);
      }
      return { source: source.name };
    },

    async replicationProgress(input: {
      cluster: string;
      host: string;
      primary: string;
    }): Promise<ReplicationProgress> {
      const { cluster, host, dialect } = lookup(input);
      const primary = hostOf(cluster, input.primary);
      const [mine, theirs] = await Promise.all([
        on(host, 'read replication progress', async (c) => {
          const status = await probe(c, dialect.replicationStatus());
          return {
            status,
            applied: status ? status.gtidExecuted : (await probe(c, dialect.gtidPosition())).current,
          };
        }),
        on(primary, 'read the primary position', (c) => probe(c, dialect.gtidPosition())),
      ]);
      const s = mine.status;
      return {
        ioRunning: s?.ioRunning ?? null,
        sqlRunning: s ? s.sqlRunning === 'yes' : null,
        lastError: s ? s.lastSqlError || s.lastIoError || null : null,
        lagSeconds: s?.lagSeconds ?? null,
        gtidDistance: gtidDistance(cluster.flavor, mine.applied, theirs.position),
      };
    },

    /**
     * Compares every user table of two replicas of one primary at one GTID position P.
     *
     * Why a replica stopped at P holds exactly what the primary held at P: the primary's binlog
     * is its commits in order, and a GTID position names a prefix of that order (per domain, every
     * transaction up to that seq_no). A replica applies the binlog in that order and writes
     * nothing of its own (read-only, no errant GTIDs), so once its SQL thread has applied exactly
     * the prefix P and stopped, its tables are the primary's tables right after P committed.
     * Two replicas stopped at the same P must therefore be identical, however much the primary
     * has written since; a difference is a copy that went wrong.
     *
     * Replication is started again on both at the end, whatever happened.
     */
    async checksumAtCommonPosition(input: {
      cluster: string;
      host: string;
      reference: string;
      tables?: string[];
    }): Promise<ChecksumResult> {
      const ctx = Context.current();
      const { cluster, host, dialect } = lookup(input);
      const reference = hostOf(cluster, input.reference);
      if (reference.name === host.name)
        throw nonRetryable(
          ErrorType.BadConfiguration,
          `checksumAtCommonPosition: ${host.name} cannot be its own reference`,
        );
      const both = [host, reference];
      const tables = input.tables?.map(parseTableName);
      // Every second, also while one CHECKSUM TABLE of a big table runs.
      const progress = { phase: 'stop replication' };
      const beating = setInterval(() => ctx.heartbeat({ ...progress }), 1000);
      try {
        // 1. Hold both still and pick the position both will reach: the more advanced of the two.
        const stopped = await Promise.all(
          both.map((h) =>
            on(h, 'stop replication', async (c) => {
              const status = await probe(c, dialect.replicationStatus());
              if (!status)
                throw nonRetryable(ErrorType.Refused, `checksumAtCommonPosition: ${h.name} is not a replica`);
              await execute(c, dialect.backup.stopApplying());
              return (await probe(c, dialect.replicationStatus()))?.gtidExecuted ?? status.gtidExecuted;
            }),
          ),
        );
        let position: string;
        try {
          position = gtidCommonPosition(cluster.flavor, stopped[0], stopped[1]);
        } catch (e) {
          throw nonRetryable(ErrorType.Refused, `checksumAtCommonPosition: ${msg(e)}`);
        }
        const ops = gtidOps(cluster.flavor);
        // 2. The one behind applies up to P and stops there; one already at P stays stopped.
        await Promise.all(
          both.map(async (h, i) => {
            if (ops.compare(stopped[i], position) === 'equal') return;
            await on(h, 'start replication until the common position', (c) =>
              execute(c, dialect.backup.startUntil(position)),
            );
            const until = Date.now() + UNTIL_TIMEOUT_MS;
            for (;;) {
              progress.phase = `${h.name} to ${position}`;
              const s = await on(h, 'wait for the common position', (c) =>
                probe(c, dialect.replicationStatus()),
              );
              if (s?.lastSqlError)
                throw nonRetryable(
                  ErrorType.SqlError,
                  `${h.name} stopped with an error before ${position}: ${s.lastSqlError}`,
                );
              if (s && s.sqlRunning === 'no') {
                if (ops.compare(s.gtidExecuted, position) === 'equal') break;
                throw retryable(
                  ErrorType.Unreachable,
                  `${h.name} stopped at ${s.gtidExecuted}, not at ${position}`,
                );
              }
              if (Date.now() > until)
                throw retryable(
                  ErrorType.Timeout,
                  `${h.name} did not reach ${position} within ${UNTIL_TIMEOUT_MS / 1000} s`,
                );
              await sleep(100);
            }
          }),
        );
        // 3. Every table on both sides, the union of both lists: one missing on a side differs.
        const lists = await Promise.all(
          both.map((h) => on(h, 'list tables', (c) => probe(c, dialect.backup.userTables()))),
        );
        const names = tables
          ? tables.map((t) => `${t.schema}.${t.table}`)
          : [...new Set([...lists[0], ...lists[1]])].sort();
        const out: TableComparison[] = [];
        for (const name of names) {
          progress.phase = `checksum ${name}`;
          const { schema, table } = parseTableName(name);
          const [mine, ref] = await Promise.all(
            both.map((h, i) =>
              lists[i].includes(name) || tables
                ? on(h, `checksum ${name}`, (c) => probe(c, dialect.backup.checksumTable(schema, table)))
                : Promise.resolve(null),
            ),
          );
          const equal =
            mine !== null && ref !== null && mine.checksum === ref.checksum && mine.rows === ref.rows;
          out.push({
            name,
            reference: ref?.checksum ?? null,
            host: mine?.checksum ?? null,
            equal,
            rows: mine?.rows ?? 0,
          });
        }
        return { position, tables: out, equal: out.every((t) => t.equal) };
      } finally {
        clearInterval(beating);
        // 4. Always: both replicate normally again (a plain START clears an UNTIL).
        await Promise.allSettled(
          both.map((h) => on(h, 'restart replication', (c) => execute(c, dialect.startReplication()))),
        );
      }
    },
  };

  /**
   * The donor's accounts the target lacks, created without binlog events. Accounts are not in the
   * dump's snapshot (and need not be: changes made after it replicate), and one the donor cannot
   * show or the target refuses is reported, not fatal.
   */
  async function copyAccounts(donor: Host, target: Host, dialect: Dialect): Promise<AccountsCopied | null> {
    const copy = dialect.backup.accounts;
    if (!copy) return null;
    const key = (a: Account) => `${a.user}@${a.host}`;
    const skipped: string[] = [];
    const definitions = await on(donor, 'read accounts', async (c) => {
      const out: { account: Account; statements: Statement[] }[] = [];
      for (const account of await probe(c, copy.list()))
        try {
          out.push({ account, statements: await probe(c, copy.definition(account)) });
        } catch (e) {
          skipped.push(`${key(account)}: ${msg(e)}`);
        }
      return out;
    });
    let created = 0;
    await on(target, 'create accounts', async (c) => {
      const existing = new Set((await probe(c, copy.list())).map(key));
      await execute(c, [{ sql: 'SET SESSION sql_log_bin=0', redacted: 'SET SESSION sql_log_bin=0' }]);
      try {
        // Roles first: users' grants name them.
        const missing = definitions
          .filter((d) => !existing.has(key(d.account)))
          .sort((a, b) => Number(b.account.role) - Number(a.account.role));
        for (const d of missing) {
          try {
            await execute(c, d.statements);
            created++;
          } catch (e) {
            skipped.push(`${key(d.account)}: ${msg(e)}`);
          }
        }
      } finally {
        await execute(c, [{ sql: 'SET SESSION sql_log_bin=1', redacted: 'SET SESSION sql_log_bin=1' }]);
      }
    });
    return { created, skipped };
  }

  /** After a restore: no binlog GTIDs of its own, replica position exactly the backup's. */
  async function setPosition(
    target: Host,
    dialect: Dialect,
    position: string,
    o: { writableDuringRestore: boolean },
  ): Promise<void> {
    const ops = gtidOps(dialect.flavor);
    await onPatiently(target, 'set the replica position', async (c) => {
      if (o.writableDuringRestore) await execute(c, dialect.backup.restoreDone());
      const status = await probe(c, dialect.replicationStatus());
      const version = (await probe(c, dialect.nodeFacts())).version;
      await execute(c, [
        ...dialect.backup.resetForRestore(version, status !== null),
        ...dialect.backup.setReplicaPosition(position, version),
      ]);
      const now = await probe(c, dialect.gtidPosition());
      const applied = now.replica ?? now.current;
      if (
        ops.compare(applied, position) !== 'equal' ||
        !(ops.isEmpty(now.position) || ops.compare(now.position, position) === 'equal')
      )
        throw nonRetryable(
          ErrorType.SqlError,
          `${target.name}: after the restore its replica position is ${applied} and its binlog position ${now.position || '(empty)'}, expected ${position}`,
        );
    });
  }

  return activities;
}

function parseTableName(name: string): { schema: string; table: string } {
  const dot = name.indexOf('.');
  if (dot <= 0 || dot === name.length - 1)
    throw nonRetryable(ErrorType.BadConfiguration, `table ${JSON.stringify(name)}: expected "schema.table"`);
  // Identifiers are escaped where they are used; this only checks the shape.
  quoteIdentifier(name.slice(0, dot));
  return { schema: name.slice(0, dot), table: name.slice(dot + 1) };
}

function sourceName(cluster: Cluster, r: ReplicationStatus): string {
  return (
    cluster.hosts.find((h) => h.address === r.sourceHost && h.port === r.sourcePort)?.name ??
    `${r.sourceHost}:${r.sourcePort}`
  );
}

/** The last lines of a command's error output, enough to say what failed. */
function tail(text: string): string {
  const t = text.trim();
  return t.length > 800 ? `...${t.slice(-800)}` : t || '(no output)';
}

interface ChannelResult {
  code: number | null;
  signal: string | null;
  stderr: string;
}

/** The channel's exit status and stderr once it closed; stdout is left to the caller. */
function finished(channel: ClientChannel, o: { drainStdout: boolean }): Promise<ChannelResult> {
  // An unread stdout fills the channel window and stalls the command (a restore client's output).
  if (o.drainStdout) channel.on('data', () => undefined);
  return new Promise((resolve) => {
    const err = new Bounded(64 * 1024);
    let code: number | null = null;
    let signal: string | null = null;
    channel.stderr.on('data', (d: Buffer) => err.push(d));
    channel.on('exit', (c: number | null, s?: string) => {
      code = typeof c === 'number' ? c : null;
      signal = s ?? null;
    });
    channel.on('close', () =>
      resolve({ code, signal: signal ?? (code === null ? 'connection lost' : null), stderr: err.text() }),
    );
  });
}
