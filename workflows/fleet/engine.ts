// What a fleet and a drain share once they know their clusters: the queue, at most `concurrency`
// children at once, the failure budget, pause/resume/abort, the progress query and the UI's
// current details, and the hand-over to a new run (continue-as-new).
//
// Continue-as-new happens only when no child is running. A run's children report to that run
// alone: after a hand-over the new run could not await a child the old one started (workflow code
// may signal or cancel another workflow, never wait for its result), so a running child would
// need an activity polling Temporal for hours, a second path for outcomes to arrive by. Instead,
// after `continueAsNewAfter` children ended (or when the history is full) no new child starts;
// the running ones end, and the next run starts with the queue and every outcome. The cost is
// one child's duration of reduced concurrency every few hundred children.
import {
  condition,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import {
  clip,
  type FleetActor,
  type FleetCarry,
  type FleetItem,
  type FleetOutcome,
  type FleetRunbook,
} from '../../domain/fleet/input';
import { formatWindow, nextWindow, parseWindow } from '../../domain/window';
import {
  abortUpdate,
  fleetProgressQuery,
  pauseUpdate,
  phaseSearchAttribute,
  resumeUpdate,
  type FleetCounts,
  type FleetKind,
  type FleetPhase,
  type FleetProgress,
  type FleetRequest,
  type FleetResult,
} from '../api';
import { historyFull } from '../historyBound';

export interface FleetSettings {
  kind: FleetKind;
  runbook: FleetRunbook;
  /** The selector, or the machine being drained. */
  subject: string;
  concurrency: number;
  maxFailures: number;
  continueAsNewAfter: number;
  dryRun: boolean;
  /** Children start only inside this window (planned fleets). */
  window?: string;
  /** Runs one cluster's child to its end (workflows/fleet/children.ts); never throws. */
  child: (item: FleetItem) => Promise<FleetOutcome>;
}

/** How a run of the loop ends: the fleet is over, or it hands over to a new run. */
export type LoopEnd = 'over' | 'continue-as-new';

const NAMES_SHOWN = 20;

export class Fleet {
  private queue: FleetItem[] = [];
  private readonly ended: FleetOutcome[];
  private readonly running = new Map<string, FleetItem>();
  private paused: FleetActor | undefined;
  private aborted: FleetActor | undefined;
  private phase: FleetPhase;
  /** The RunbookPhase last written (an upsert is a history event: only on a change). */
  private writtenPhase: FleetPhase | undefined;
  private total: number;
  private readonly runs: number;
  private readonly startedAt: string;
  private endedHere = 0;
  /** Bumped on every change the loop waits for (a child ended, an update). */
  private changes = 0;

  constructor(
    private readonly s: FleetSettings,
    carry: FleetCarry | undefined,
    firstPhase: FleetPhase,
  ) {
    this.queue = carry?.queue ?? [];
    this.ended = carry?.outcomes ?? [];
    this.total = carry?.total ?? 0;
    this.runs = carry?.runs ?? 0;
    this.startedAt = carry?.startedAt ?? new Date().toISOString();
    this.phase = firstPhase;
    setHandler(fleetProgressQuery, () => this.progress());
    this.acceptUpdates();
    this.show(firstPhase);
  }

  /** The clusters to run, and those the plan settled already (a drain's refusals and replicas). */
  begin(items: FleetItem[], ...settled: FleetOutcome[][]): void {
    this.queue = items;
    for (const s of settled) this.ended.push(...s);
    this.total = this.queue.length + this.ended.length;
  }

  /** The state a continue-as-new hands over (no child is running then, no pause, no abort). */
  carry(): FleetCarry {
    return {
      queue: this.queue,
      outcomes: this.ended,
      total: this.total,
      runs: this.runs + 1,
      startedAt: this.startedAt,
    };
  }

  private failures(): number {
    return this.ended.filter((o) => o.status === 'failed').length;
  }

  /** maxFailures failed: no new child starts (0 means no failure is tolerated, as 1 does). */
  private budgetSpent(): boolean {
    return this.failures() >= Math.max(1, this.s.maxFailures);
  }

  private handOverDue(): boolean {
    return this.endedHere >= this.s.continueAsNewAfter || historyFull();
  }

  /** Why no new child starts now, or undefined when one may. */
  private holdReason(): string | undefined {
    if (this.aborted) return 'aborted';
    if (this.budgetSpent()) return 'budget';
    if (this.paused) return 'paused';
    if (this.handOverDue()) return 'hand-over';
    return undefined;
  }

  /** Runs children until the fleet is over or due to hand over; returns which. */
  async run(): Promise<LoopEnd> {
    for (;;) {
      const hold = this.holdReason();
      const closedUntil = hold || this.queue.length === 0 ? undefined : this.windowClosedUntil();
      if (!hold && closedUntil === undefined)
        while (this.queue.length > 0 && this.running.size < this.s.concurrency)
          this.launch(this.queue.shift()!);

      if (this.running.size === 0) {
        if (this.queue.length === 0 || hold === 'aborted' || hold === 'budget') return 'over';
        if (hold === 'hand-over') return 'continue-as-new';
      }
      this.show(
        hold === 'paused'
          ? 'paused'
          : hold === 'aborted' || hold === 'budget'
            ? 'stopping'
            : closedUntil !== undefined
              ? 'waiting-for-window'
              : 'running',
      );
      const seen = this.changes;
      if (closedUntil !== undefined)
        await condition(() => this.changes !== seen, Math.max(1, closedUntil - Date.now()));
      else await condition(() => this.changes !== seen);
    }
  }

  /** When the window is closed now: the time it opens (ms); undefined when open or none. */
  private windowClosedUntil(): number | undefined {
    if (!this.s.window) return undefined;
    const next = nextWindow(parseWindow(this.s.window), new Date());
    return next.openNow ? undefined : next.opensAt.getTime();
  }

  private launch(item: FleetItem): void {
    this.running.set(item.cluster, item);
    void this.s
      .child(item)
      .catch((e: unknown) => ({
        cluster: item.cluster,
        status: 'failed' as const,
        detail: `the fleet lost track of this child: ${e instanceof Error ? e.message : String(e)}`,
      }))
      .then((outcome) => {
        this.running.delete(item.cluster);
        this.ended.push(outcome);
        this.endedHere++;
        this.changed();
      });
  }

  private changed(): void {
    this.changes++;
    this.show(this.phase);
  }

  // ---- updates -------------------------------------------------------------------------------

  private acceptUpdates(): void {
    const who = (req: FleetRequest): FleetActor => ({
      ...(req?.by ? { by: req.by } : {}),
      ...(req?.comment ? { comment: req.comment } : {}),
      at: new Date().toISOString(),
    });
    const over = () => {
      if (this.phase === 'done') throw new Error('the fleet is over');
      if (this.aborted) throw new Error(`the fleet was aborted${byText(this.aborted)}`);
    };
    setHandler(
      pauseUpdate,
      (req) => {
        this.paused = who(req);
        this.changed();
        return `paused${byText(this.paused)}: no new child starts until resume; ${this.runningText()} finish; ${this.queue.length} waiting`;
      },
      {
        validator: (req) => {
          validRequest(req);
          over();
          if (this.paused) throw new Error(`already paused${byText(this.paused)}`);
        },
      },
    );
    setHandler(
      resumeUpdate,
      (req) => {
        const was = this.paused;
        this.paused = undefined;
        this.changed();
        return `resumed${byText(who(req))} (paused${byText(was)} since ${was?.at}): ${
          this.budgetSpent() ? 'no child starts: the failure budget is spent' : `${this.queue.length} waiting`
        }`;
      },
      {
        validator: (req) => {
          validRequest(req);
          over();
          if (!this.paused) throw new Error('the fleet is not paused');
        },
      },
    );
    setHandler(abortUpdate, (req) => this.abort(who(req)), {
      validator: (req) => {
        validRequest(req);
        over();
      },
    });
  }

  /** No new child starts; running children finish (never cancelled: one may be mid critical section). */
  abort(actor: FleetActor): string {
    this.aborted ??= actor;
    this.changed();
    return `aborted${byText(actor)}: no new child starts; ${this.runningText()} finish (a child is never cancelled: it may be inside its critical section); ${this.queue.length} not started`;
  }

  private runningText(): string {
    const names = [...this.running.keys()];
    if (names.length === 0) return 'no child is running to';
    return `${names.length} running ${names.length === 1 ? 'child' : 'children'} (${names.slice(0, NAMES_SHOWN).join(', ')}${names.length > NAMES_SHOWN ? ', …' : ''})`;
  }

  // ---- what the query, the UI and the result show ------------------------------------------

  private counts(): FleetCounts {
    const c: FleetCounts = {
      waiting: 0,
      running: this.running.size,
      done: 0,
      refused: 0,
      failed: 0,
      skipped: 0,
    };
    for (const o of this.ended) c[o.status]++;
    c.waiting = this.queue.length;
    return c;
  }

  progress(): FleetProgress {
    return {
      fleet: workflowInfo().workflowId,
      kind: this.s.kind,
      runbook: this.s.runbook,
      subject: this.s.subject,
      phase: this.phase,
      dryRun: this.s.dryRun,
      concurrency: this.s.concurrency,
      maxFailures: this.s.maxFailures,
      budgetSpent: this.budgetSpent(),
      ...(this.paused ? { paused: this.paused } : {}),
      ...(this.aborted ? { aborted: this.aborted } : {}),
      counts: this.counts(),
      run: this.runs + 1,
      clusters: [
        ...this.ended,
        ...[...this.running.keys()].map((cluster) => ({ cluster, status: 'running' as const })),
        ...this.queue.map((i) => ({ cluster: i.cluster, status: 'waiting' as const })),
      ],
    };
  }

  /** The phase (a search attribute update only when it changes) and the UI's current details. */
  show(phase: FleetPhase): void {
    if (phase !== this.writtenPhase) upsertSearchAttributes(phaseSearchAttribute(phase));
    this.phase = this.writtenPhase = phase;
    const c = this.counts();
    const lines = [
      `**${phase}** ${this.s.kind === 'drain-host' ? `drain of ${this.s.subject}` : `${this.s.runbook} on ${this.s.subject}`}${this.s.dryRun ? ' (dry run)' : ''}: ${this.total} clusters`,
      `${c.done} done, ${c.refused} refused, ${c.failed} failed (no new start from ${Math.max(1, this.s.maxFailures)}), ${c.running} running of ${this.s.concurrency}, ${c.waiting} waiting${c.skipped ? `, ${c.skipped} skipped` : ''}`,
    ];
    if (this.running.size)
      lines.push(`running: ${[...this.running.keys()].slice(0, NAMES_SHOWN).join(', ')}`);
    const failed = this.ended.filter((o) => o.status === 'failed');
    if (failed.length)
      lines.push(
        `failed: ${failed
          .slice(0, NAMES_SHOWN)
          .map((o) => `${o.cluster} (${o.type ?? 'error'})`)
          .join(', ')}`,
      );
    if (this.paused) lines.push(`paused${byText(this.paused)}: \`fleet resume\` starts the rest`);
    if (this.aborted) lines.push(`aborted${byText(this.aborted)}`);
    if (this.s.window && phase === 'waiting-for-window')
      lines.push(`children start inside ${formatWindow(parseWindow(this.s.window))}`);
    setCurrentDetails(lines.join('\n\n'));
  }

  /** The clusters never started become skipped, with why (`planOnly`: a dry run's line); then the result. */
  finish(planOnly?: (cluster: string) => string): FleetResult {
    const why = this.aborted
      ? `not started: the fleet was aborted${byText(this.aborted)}`
      : `not started: ${this.failures()} children failed, the budget of ${this.s.maxFailures}`;
    const notStarted = this.queue.map((i) => i.cluster);
    this.ended.push(
      ...notStarted.map((cluster) => ({
        cluster,
        status: 'skipped' as const,
        detail: clip(planOnly ? planOnly(cluster) : why),
      })),
    );
    this.queue = [];
    const ended: FleetResult['ended'] = this.aborted
      ? 'aborted'
      : this.budgetSpent() && notStarted.length
        ? 'budget-spent'
        : 'completed';
    this.show('done');
    const names = (status: FleetOutcome['status']) =>
      this.ended.filter((o) => o.status === status).map((o) => o.cluster);
    return {
      ok: this.failures() === 0,
      fleet: workflowInfo().workflowId,
      kind: this.s.kind,
      runbook: this.s.runbook,
      subject: this.s.subject,
      dryRun: this.s.dryRun,
      ended,
      ...(this.aborted ? { aborted: this.aborted } : {}),
      counts: this.counts(),
      failed: names('failed'),
      refused: names('refused'),
      notStarted,
      runs: this.runs + 1,
      startedAt: this.startedAt,
      endedAt: new Date().toISOString(),
      clusters: this.ended,
    };
  }
}

const byText = (a: { by?: string } | undefined): string => (a?.by ? ` by ${a.by}` : '');

function validRequest(req: FleetRequest | undefined): void {
  if (req?.by !== undefined && (typeof req.by !== 'string' || req.by.length > 200))
    throw new Error('by: expected a name of at most 200 characters');
  if (req?.comment !== undefined && (typeof req.comment !== 'string' || req.comment.length > 2000))
    throw new Error('comment: expected a text of at most 2000 characters');
}
