// Emergency recovery's salvage step (issue 17): the failed primary's mysqld is dead but its host
// answers SSH, so the transactions its binary log holds and the candidate lacks are read there and
// applied to the candidate with their GTIDs before it becomes writable. The other replicas then
// receive them from the new primary. Bounded by policy.salvageSeconds; whatever stops it is a
// report, never a failed recovery: promoting without them is what happened before this step.
import { Context } from '@temporalio/activity';
import { dialectFor } from '../domain/dialects';
import {
  candidateState,
  salvageStartPosition,
  selectSalvage,
  skippedSalvage,
  summarizeGtids,
  type SalvageReport,
} from '../domain/salvage';
import type { ActivityDeps } from './deps';
import { classifySqlError } from './errors';
import { clusterOf, hostOf } from './lookup';
import { applySalvage, readSalvage } from './salvage';
import type { SqlPools } from './sql/pools';
import { probe } from './sql/run';
import type { SshPool } from './ssh';

export interface SalvageInput {
  cluster: string;
  /** The failed primary, fenced: its mysqld did not answer the fence. */
  failed: string;
  candidate: string;
  /** policy.salvageSeconds: 0 turns salvage off. */
  seconds: number;
  /** The fence set read_only over SQL: its mysqld answers, so nothing of it is to be salvaged. */
  mysqldAnswered: boolean;
  /**
   * Whether the host answered SSH during the fence (its option file written); null when the fence
   * did not try. A host that did not is not tried again: that would cost a connect timeout.
   */
  sshAnswered: boolean | null;
}

export function createSalvageActivities(deps: ActivityDeps, shared: { pools: SqlPools; ssh?: SshPool }) {
  return {
    async salvageBinlog(input: SalvageInput): Promise<SalvageReport> {
      const started = Date.now();
      const spec = clusterOf(deps.inventory, input.cluster);
      const host = hostOf(spec, input.failed);
      const target = hostOf(spec, input.candidate);
      const d = dialectFor(spec.flavor);
      const seconds = () => (Date.now() - started) / 1000;
      const left = () => input.seconds - seconds();
      if (input.seconds <= 0) return skippedSalvage('policy.salvageSeconds is 0: salvage is off');
      if (input.mysqldAnswered)
        return skippedSalvage(
          `${host.name}'s mysqld answered the fence: it is read-only with its transactions, which the fence watch reports`,
        );
      if (input.sshAnswered === false)
        return skippedSalvage(
          `${host.name} did not answer SSH during the fence (host down or cut off): its binary log cannot be read`,
        );
      const ssh = shared.ssh;
      if (!ssh || !host.ssh)
        return skippedSalvage(
          `${host.name} has no SSH access configured (hosts[].ssh and credentials.ssh): its binary log cannot be read`,
        );
      const datadir = host.service?.datadir;
      if (!datadir && !host.binlogBasename)
        return skippedSalvage(
          `${host.name}'s binary log location is unknown: give hosts[].binlogBasename or hosts[].service.datadir`,
        );
      const beat = setInterval(() => Context.current().heartbeat(), 1000);
      try {
        const position = await shared.pools
          .with(target, (c) => probe(c, d.gtidPosition()))
          .catch((e) => {
            throw classifySqlError(target.name, 'read the position before salvage', e);
          });
        const state = candidateState(spec.flavor, position.position, position.replica);
        const start = salvageStartPosition(state);
        const read = await readSalvage(ssh, {
          host,
          flavor: spec.flavor,
          datadir: datadir ?? '/',
          binlogBasename: host.binlogBasename ?? null,
          startPosition: start,
          deadlineSeconds: Math.max(1, left()),
        });
        if (!read.ok)
          return skippedSalvage(
            `${read.message}${read.messages.length ? ` (${read.messages.join('; ')})` : ''}`,
            seconds(),
          );
        const { parsed } = read;
        const cut = parsed.cutGtids.map((g) => g ?? '(a transaction whose GTID was cut)');
        const counts = { complete: parsed.complete, cut: parsed.cut };
        const selection = selectSalvage(parsed, state, { readFrom: start });
        if (!selection.ok)
          return {
            status: 'refused',
            detail: `not applied to ${target.name}: ${selection.message}`,
            salvaged: null,
            notSalvaged: [...selection.gtids, ...cut],
            ...counts,
            seconds: seconds(),
          };
        const withheld = selection.withheld.count
          ? [`${selection.withheld.text}: ${selection.withheldReason ?? 'cannot be replayed'}`]
          : [];
        if (selection.apply.length === 0)
          return {
            status: withheld.length || cut.length ? 'partial' : 'nothing',
            detail: `${target.name} already has every complete transaction of ${host.name}'s binary log${cut.length ? `; ${cut.length} cut by the crash` : ''}`,
            salvaged: summarizeGtids(spec.flavor, []),
            notSalvaged: [...withheld, ...cut],
            ...counts,
            seconds: seconds(),
          };
        // A connection of its own, destroyed after: the replay changes its session.
        const c = await shared.pools.connection(target).catch((e) => {
          throw classifySqlError(target.name, 'connect for salvage', e);
        });
        let applied;
        try {
          applied = await applySalvage(c, {
            flavor: spec.flavor,
            transactions: selection.apply,
            sessionPrelude: parsed.sessionPrelude,
            deadlineSeconds: Math.max(1, left()),
          });
        } finally {
          c.destroy();
        }
        const notApplied = applied.notApplied.length
          ? [
              `${summarizeGtids(spec.flavor, applied.notApplied).text} not applied (${applied.failure?.message ?? applied.stoppedBy})`,
            ]
          : [];
        const uncertain = applied.uncertain ? [`${applied.uncertain} (its commit's answer was lost)`] : [];
        const whole = applied.stoppedBy === 'done' && !withheld.length && !cut.length && !uncertain.length;
        return {
          status: applied.applied.length === 0 ? 'refused' : whole ? 'salvaged' : 'partial',
          detail:
            applied.applied.length === 0 && applied.failure
              ? `not applied to ${target.name}: ${applied.failure.message}`
              : `${applied.summary.text} from ${host.name}'s binary log applied to ${target.name}${cut.length ? `; ${cut.length} cut by the crash (never complete)` : ''}`,
          salvaged: applied.summary,
          notSalvaged: [...notApplied, ...uncertain, ...withheld, ...cut],
          ...counts,
          seconds: seconds(),
        };
      } finally {
        clearInterval(beat);
      }
    },
  };
}
