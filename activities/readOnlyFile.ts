// Read-only that survives a restart. SET GLOBAL read_only lasts until mysqld restarts: a crashed
// primary restarted by systemd (or a human) comes back with whatever its option files say, and
// many say nothing, so it would be a second writable node until the fence watch finds it. Each
// host may name an option file the server reads at start (`optionFile`); successover writes
// read_only=ON there when it fences or demotes the host, and removes it when it promotes it.
import type { Cluster, Host } from '../domain/inventory';
import { dialectFor } from '../domain/dialects';
import type { FenceOutcome } from '../domain/emergency/fence';
import type { ActivityDeps } from './deps';
import { clusterOf, hostOf } from './lookup';
import { shellQuote } from './shellQuote';
import type { SshPool } from './ssh';
import { errorMessage } from './traffic/common';

const WRITE_TIMEOUT_MS = 5000;

export interface PersistReadOnlyInput {
  cluster: string;
  host: string;
  /** true: write read_only=ON; false: remove the file (the host is promoted). */
  readOnly: boolean;
  /** Why, written in the file's header: "fenced by emergency-recovery/lab". */
  reason: string;
}

/** The sh command that writes (atomically: a restart never reads half a file) or removes it. */
export function readOnlyFileCommand(path: string, lines: string[] | null, header: string): string {
  if (lines === null) return `rm -f ${shellQuote(path)}`;
  const content = [
    `# ${header.replace(/[\r\n]+/g, ' ')}`,
    '# successover removes this file when it promotes this server; do not edit it by hand.',
    '[mysqld]',
    ...lines,
  ];
  const tmp = `${path}.successover-tmp`;
  return `umask 022 && printf '%s\\n' ${content.map(shellQuote).join(' ')} > ${shellQuote(tmp)} && mv -f ${shellQuote(tmp)} ${shellQuote(path)}`;
}

export function createReadOnlyFileActivities(deps: ActivityDeps, shared: { ssh: SshPool | undefined }) {
  /** Best effort, never throws: the outcome is reported (and warned about) by the runbook. */
  async function persist(cluster: Cluster, host: Host, input: PersistReadOnlyInput): Promise<FenceOutcome> {
    const what = input.readOnly ? 'read_only=ON written to' : 'successover read_only file removed from';
    if (!host.optionFile)
      return {
        status: 'skipped',
        detail: `${host.name} names no optionFile in the inventory: read_only does not survive a restart of it; name a file its server reads at start (e.g. /etc/mysql/conf.d/zz-successover.cnf)`,
      };
    if (!shared.ssh || !host.ssh)
      return {
        status: 'skipped',
        detail: `${host.name}'s optionFile is written over SSH: give ssh.hostKey for it and credentials.ssh`,
      };
    const lines = input.readOnly ? dialectFor(cluster.flavor).readOnlyOptions() : null;
    const header = `Written by successover ${new Date().toISOString()}: ${input.reason}.`;
    try {
      const r = await shared.ssh.exec(host, readOnlyFileCommand(host.optionFile, lines, header), {
        timeoutMs: WRITE_TIMEOUT_MS,
      });
      if (r.code !== 0)
        return {
          status: 'failed',
          detail: `${what} ${host.name}:${host.optionFile} failed (exit ${r.code}): ${r.stderr.trim().slice(0, 300)}`,
        };
      return { status: 'done', detail: `${what} ${host.name}:${host.optionFile}` };
    } catch (e) {
      return {
        status: 'failed',
        detail: `${what} ${host.name}:${host.optionFile} failed: ${errorMessage(e)}`,
      };
    }
  }

  return {
    persist,
    activities: {
      async persistReadOnly(input: PersistReadOnlyInput): Promise<FenceOutcome> {
        const cluster = clusterOf(deps.inventory, input.cluster);
        return persist(cluster, hostOf(cluster, input.host), input);
      },
    },
  };
}
