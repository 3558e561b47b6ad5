// copyBackup: a consistent backup of the donor streamed over SSH into the target, which ends with
// the backup's GTID position as its replica position and its binlog empty (the restore writes no
// binlog), so it has no GTIDs of its own.
//
// Credentials: a per-run option file ([client] user, password; mode 0600 in a 0700 directory),
// sent over SSH as the stdin of `cat >` and named with --defaults-extra-file. Never a command
// line argument (ps shows those to every user of the host) and never MYSQL_PWD: it needs
// `AcceptEnv` in every host's sshd_config, mariadb-backup and xtrabackup do not all read it, and
// MySQL deprecated it. The file is removed when the copy ends, by the next attempt, and by
// startReplica.
//
// The commands need, on each host, the SSH user to run the tools, write beside the datadir and
// (physical) own the datadir's files: root in practice; and flock (util-linux).
import { Context } from '@temporalio/activity';
import type { Dialect } from '../../domain/dialects';
import { clientOptionFile, type ClientEndpoint } from '../../domain/dialects/backup';
import type { Host } from '../../domain/inventory';
import type { ProvisionMethod } from '../../domain/provision/method';
import { lastLook, trimSlash, type LastLookFacts } from '../../domain/provision/lastLook';
import type { ActivityDeps } from '../deps';
import { ErrorType, nonRetryable, retryable } from '../errors';
import { failpoint } from '../failpoints';
import { hostOf } from '../lookup';
import { shellQuote } from '../shellQuote';
import type { AccountsCopied } from './accounts';
import { copyLogical } from './copyLogical';
import { copyPhysical } from './copyPhysical';
import { trackPhases, type CopyPhase, type CopyRun } from './copyRun';
import { serverDatadir, type ProvisionHosts } from './hosts';
import { inspectDonorHost, inspectTarget, type DonorLook, type ProvisionTargetState } from './inspect';
import { writeMarker, workdirOf } from './workdir';

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

const DEFAULT_STALL_SECONDS = 600;

export function createCopyActivities(deps: ActivityDeps, hosts: ProvisionHosts) {
  return {
    async copyBackup(input: CopyBackupInput): Promise<CopyBackupResult> {
      const ctx = Context.current();
      const started = Date.now();
      const { cluster, host: target, dialect } = hosts.lookup({ cluster: input.cluster, host: input.target });
      const donor = hostOf(cluster, input.donor);
      checkRequest(input, donor, target);
      hosts.ssh(donor);
      hosts.ssh(target);
      const { progress, phases, phase, stop } = trackPhases(ctx);
      try {
        // Look before touching anything: every refusal leaves the target as it was.
        const [donorState, targetState] = await phase('inspect', () =>
          Promise.all([
            inspectDonorHost(hosts, donor, dialect),
            inspectTarget(hosts, cluster, target, dialect),
          ]),
        );
        progress.totalBytesEstimate =
          input.method === 'logical' ? donorState.userBytes : donorState.dataBytes;
        const workdir = await lookBeforeCopy(
          hosts,
          input,
          { donor, target, dialect },
          donorState,
          targetState,
        );

        // The marker, before the first change on the target.
        await phase('marker', () =>
          writeMarker(hosts, target, workdir, {
            method: input.method,
            donor: donor.name,
            startedAt: new Date().toISOString(),
          }),
        );
        const donorWorkdir = workdirOf(donorState.datadir ?? `/tmp/successover-donor-${donor.name}`);
        const endpoint = (host: Host, optionFile: string): ClientEndpoint => ({
          optionFile,
          host: host.address,
          port: host.port,
        });
        const run: CopyRun = {
          hosts,
          donor,
          target,
          dialect,
          workdir,
          donorEndpoint: endpoint(donor, `${donorWorkdir}/donor.cnf`),
          targetEndpoint: endpoint(target, `${workdir}/target.cnf`),
          phase,
          counted: countBytes(progress),
          signal: ctx.cancellationSignal,
          stallMs: (input.stallSeconds ?? DEFAULT_STALL_SECONDS) * 1000,
        };
        await phase('credentials', async () => {
          const file = clientOptionFile(deps.secrets.mysql);
          await Promise.all([
            hosts.writeFile(donor, run.donorEndpoint.optionFile, file),
            hosts.writeFile(target, run.targetEndpoint.optionFile, file),
          ]);
        });
        try {
          const { position, rows, accounts } =
            input.method === 'logical'
              ? await copyLogical(run)
              : await copyPhysical(run, {
                  service: target.service as NonNullable<Host['service']>,
                  targetReachable: targetState.reachable,
                  donorDatadir: donorState.datadir as string,
                });
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
            hosts.remote(donor, 'remove the option file', `rm -rf ${shellQuote(donorWorkdir)}`),
            hosts.remote(
              target,
              'remove the option file',
              `rm -f ${shellQuote(run.targetEndpoint.optionFile)}`,
            ),
          ]);
        }
      } finally {
        stop();
      }
    },
  };
}

function checkRequest(input: CopyBackupInput, donor: Host, target: Host): void {
  if (input.method !== 'logical' && input.method !== 'physical')
    throw nonRetryable(
      ErrorType.BadConfiguration,
      `copyBackup: method ${JSON.stringify(input.method)}: expected logical or physical`,
    );
  if (donor.name === target.name)
    throw nonRetryable(ErrorType.BadConfiguration, `copyBackup: ${target.name} cannot be its own donor`);
}

/**
 * The last look (domain/provision/lastLook.ts) on facts read just now; returns the run's
 * directory on the target. The datadir checks cost a query or a command, so they are read only
 * once every other rule has passed.
 */
async function lookBeforeCopy(
  hosts: ProvisionHosts,
  input: CopyBackupInput,
  sides: { donor: Host; target: Host; dialect: Dialect },
  donorState: DonorLook,
  targetState: ProvisionTargetState,
): Promise<string> {
  const { donor, target, dialect } = sides;
  const datadir = targetState.datadir;
  if (!datadir)
    throw retryable(
      ErrorType.Unreachable,
      `copyBackup: the datadir of ${target.name} is unknown: its server does not answer and the inventory has no service.datadir for it`,
    );
  const service = target.service ?? null;
  const facts: LastLookFacts = {
    method: input.method,
    wipe: input.wipe,
    target: {
      name: target.name,
      reachable: targetState.reachable,
      userSchemas: targetState.userSchemas,
      replication: targetState.replication,
      inProgressMarker: targetState.inProgressMarker,
      serviceDatadir: service?.datadir ?? null,
    },
    donor: {
      name: donor.name,
      backupTool: dialect.backup.physicalTools.donor,
      hasBackupTool: donorState.hasMariadbBackup,
      datadir: donorState.datadir,
      replicating: donorState.replicating,
      logReplicaUpdates: donorState.logReplicaUpdates,
    },
  };
  const refuse = (why: string | undefined) => {
    if (why)
      throw nonRetryable(ErrorType.Refused, `copyBackup to ${target.name}: ${why}; nothing was changed`);
  };
  refuse(lastLook(facts));
  if (input.method === 'physical' && service) {
    if (targetState.reachable)
      facts.target.liveDatadir = await hosts.on(target, 'read datadir', (c) => serverDatadir(c));
    else if (!targetState.inProgressMarker) {
      // Its server is down, so @@datadir cannot vouch for the path that is about to be emptied.
      const d = shellQuote(trimSlash(service.datadir));
      const looks = await hosts
        .ssh(target)
        .exec(
          target,
          `[ -d ${d} ] && { [ -z "$(ls -A ${d})" ] || [ -e ${d}/mysql ] || [ -e ${d}/ibdata1 ] || [ -e ${d}/aria_log_control ]; }`,
          { timeoutMs: 30_000 },
        );
      facts.target.datadirLooksLikeOne = looks.code === 0;
    }
    refuse(lastLook(facts));
  }
  if (input.method === 'logical' && !targetState.reachable)
    throw retryable(ErrorType.Unreachable, `copyBackup: the server on ${target.name} does not answer`);
  return workdirOf(datadir);
}

/**
 * Counts the stream's bytes. Once a third of the estimate went through it fires the failpoint the
 * resumability tests use to kill the worker mid-copy.
 */
function countBytes(progress: { bytesCopied: number; totalBytesEstimate: number }) {
  let armed = true;
  return (chunk: Buffer) => {
    progress.bytesCopied += chunk.length;
    if (armed && progress.bytesCopied * 3 > progress.totalBytesEstimate) {
      armed = false;
      failpoint('provision-mid-copy');
    }
  };
}
