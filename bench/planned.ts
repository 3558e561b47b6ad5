// The planned-successover benchmark: a lab of its own (unique namespaces, subnet and directory,
// so it never touches a user's `.lab`), an in-memory Temporal dev server, an in-process worker
// and a writer committing through the VIP. It switches db1 → db2 → db1 … exactly as the CLI
// does and measures, per run, the blackout the workflow reports and the longest gap between
// two writes the application saw acknowledged: the figure users feel.
import { failureReason, startRunbook } from '../cli/runbooks';
import type { PlannedSuccessoverResult, TimelineStep } from '../domain/runbook';
import { RUNBOOKS } from '../domain/runbook';
import { plannedSuccessover } from '../workflows/plannedSuccessover';
import { runPlannedFloor, type PlannedFloorResult } from './floor';
import { ratio, splitLost } from './floorPlan';
import { currentPrimary, lostThrough, sleep, withBenchLab } from './harness';
import { summarize, type Summary } from './stats';
import type { Ack } from './writer';

export interface PlannedBenchOptions {
  runs: number;
  hosts: number;
  /** On a master-master pair: the same runs, replication kept both ways (issue 16). */
  masterMaster?: boolean;
  /** Leave the lab up at the end (its directory is printed); the dev server dies with us anyway. */
  keepLab?: boolean;
  /** Pause between runs, so replication and the client settle. */
  pauseMs?: number;
  /**
   * Runs of the direct-script floor (bench/floor.ts) after the project's, on the same lab under
   * the same writer; default `runs`, 0 for none.
   */
  floorRuns?: number;
  log?: (line: string) => void;
}

/** Where the longest client gap of a run sat, relative to the start of its 'read-only' step. */
export interface GapWindow {
  fromMs: number;
  toMs: number;
}

export interface RunSample {
  run: number;
  from: string;
  to: string;
  ok: boolean;
  error?: string;
  workflowId?: string;
  runId?: string;
  blackoutMs: number | null;
  clientGapMs: number;
  gap: GapWindow | null;
  /** Write attempts that failed during the run (not acknowledged, so not counted as lost). */
  failedWrites: number;
  /** Workflow start to result. */
  totalMs: number;
  /** End of 'catch up' to start of 'read-only': the critical-section activity's start plus its preparation. */
  criticalStartMs: number | null;
  /** Milliseconds of each critical-section step. */
  steps: Record<string, number>;
  /** Every step of the run: when it started after the workflow's start was sent, and its length. */
  timeline: { step: string; atMs: number; ms: number | null }[];
}

export interface PlannedBenchResult {
  runs: number;
  masterMaster: boolean;
  failedRuns: number;
  blackoutMs: Summary;
  clientGapMs: Summary;
  ackedWrites: number;
  /** Every acknowledged write missing at the end: the project's runs and the floor's. */
  lostWrites: number;
  finalPrimary: string | null;
  labDir: string | null;
  perRun: RunSample[];
  /** The direct script on the same lab, same run; null when --floor-runs 0 or it could not run. */
  floor: PlannedFloorResult | null;
  /** project p50 / floor p50. */
  ratio: { clientGapP50: number | null; blackoutP50: number | null } | null;
}

const CRITICAL_STEPS = [
  'read-only',
  'kill loop started',
  'final position',
  'wait for target',
  'promote',
  'traffic to target',
  'traffic off old primary',
  'kill loop stopped',
];
/** Acks that land just after the workflow returned still belong to its run. */
const GAP_MARGIN_MS = 200;

/** The longest gap between two acks with the later one in [from, to], and where it was. */
export function longestGap(
  acked: readonly Ack[],
  from: number,
  to: number,
): { ms: number; a: number; b: number } {
  let best = { ms: 0, a: from, b: from };
  for (let i = 1; i < acked.length; i++) {
    const x = acked[i];
    if (x.at < from || x.at > to) continue;
    const ms = x.at - acked[i - 1].at;
    if (ms > best.ms) best = { ms, a: acked[i - 1].at, b: x.at };
  }
  return best;
}

const stepStart = (t: TimelineStep[], name: string) => {
  const s = t.find((x) => x.step === name);
  return s ? Date.parse(s.start) : undefined;
};
const stepEnd = (t: TimelineStep[], name: string) => {
  const s = t.find((x) => x.step === name);
  return s?.end ? Date.parse(s.end) : undefined;
};

export async function runPlannedBench(o: PlannedBenchOptions): Promise<PlannedBenchResult> {
  const log = o.log ?? (() => undefined);
  if (!Number.isInteger(o.runs) || o.runs < 1)
    throw new Error(`--runs ${o.runs}: expected a positive integer`);
  if (o.floorRuns !== undefined && (!Number.isInteger(o.floorRuns) || o.floorRuns < 0))
    throw new Error(`--floor-runs ${o.floorRuns}: expected 0 or a positive integer`);
  const pauseMs = o.pauseMs ?? 1000;
  const hosts = o.masterMaster ? 2 : o.hosts;
  return withBenchLab({ hosts, masterMaster: o.masterMaster, keepLab: o.keepLab, log }, async (lab) => {
    const { info, labDir, client, taskQueue, writer } = lab;
    await sleep(pauseMs);

    const perRun: RunSample[] = [];
    const names = info.hosts.map((h) => h.name);
    let primary = names[0];
    for (let i = 0; i < o.runs && !lab.interrupted(); i++) {
      const target = primary === names[0] ? names[1] : names[0];
      const errorsBefore = writer.errors;
      const t0 = Date.now();
      const sample: RunSample = {
        run: i + 1,
        from: primary,
        to: target,
        ok: false,
        blackoutMs: null,
        clientGapMs: 0,
        gap: null,
        failedWrites: 0,
        totalMs: 0,
        criticalStartMs: null,
        steps: {},
        timeline: [],
      };
      let timeline: TimelineStep[] = [];
      try {
        const started = await startRunbook<PlannedSuccessoverResult>(client, {
          runbook: RUNBOOKS.planned,
          workflow: plannedSuccessover,
          cluster: info.cluster,
          input: { cluster: info.cluster, target },
          summary: `bench: planned successover → ${target} on ${info.cluster}`,
          taskQueue,
        });
        sample.workflowId = started.workflowId;
        sample.runId = started.runId;
        const r = await started.result;
        sample.ok = true;
        sample.blackoutMs = r.blackoutMs;
        timeline = r.timeline;
        primary = r.target;
      } catch (e) {
        sample.error = failureReason(e).message;
      }
      const t1 = Date.now();
      sample.totalMs = t1 - t0;
      await sleep(GAP_MARGIN_MS);
      sample.clientGapMs = writer.maxGapMs(t0, t1 + GAP_MARGIN_MS);
      sample.failedWrites = writer.errors - errorsBefore;
      const roStart = stepStart(timeline, 'read-only');
      const g = longestGap(writer.acked, t0, t1 + GAP_MARGIN_MS);
      if (roStart !== undefined && g.ms > 0) sample.gap = { fromMs: g.a - roStart, toMs: g.b - roStart };
      const catchUpEnd = stepEnd(timeline, 'catch up');
      if (roStart !== undefined && catchUpEnd !== undefined) sample.criticalStartMs = roStart - catchUpEnd;
      for (const s of timeline)
        if (CRITICAL_STEPS.includes(s.step) && s.ms !== undefined) sample.steps[s.step] = s.ms;
      sample.timeline = timeline.map((s) => ({
        step: s.host ? `${s.step} ${s.host}` : s.step,
        atMs: Date.parse(s.start) - t0,
        ms: s.ms ?? null,
      }));
      perRun.push(sample);
      log(
        sample.ok
          ? `run ${sample.run}: ${sample.from} → ${sample.to} blackout ${sample.blackoutMs} ms, client gap ${sample.clientGapMs} ms (${sample.failedWrites} failed attempts), run ${sample.totalMs} ms`
          : `run ${sample.run}: ${sample.from} → ${sample.to} FAILED: ${sample.error}`,
      );
      if (!sample.ok) break; // the topology is no longer the one the next run expects
      await sleep(Math.max(0, pauseMs - GAP_MARGIN_MS));
    }

    // The floor: the same switch by a direct script, after the project's runs, under the same writer.
    const floorRuns = o.floorRuns ?? o.runs;
    let floor: PlannedFloorResult | null = null;
    let lostBeforeFloor: number[] = [];
    const projectOk = perRun.length > 0 && perRun.every((r) => r.ok);
    if (floorRuns > 0 && o.masterMaster)
      log('direct-script floor skipped: its script (RESET SLAVE ALL on the target) is not a pair switch');
    else if (floorRuns > 0 && projectOk && !lab.interrupted()) {
      const upTo = writer.acked.length;
      lostBeforeFloor = await lostThrough(info, primary, writer, upTo);
      log(`direct-script floor: ${floorRuns} runs from ${primary}`);
      floor = await runPlannedFloor(lab, primary, { runs: floorRuns, pauseMs, log });
    } else if (floorRuns > 0 && !projectOk) log('direct-script floor skipped: a project run failed');

    await writer.stop();
    const finalPrimary = await currentPrimary(labDir);
    const lost = finalPrimary
      ? await lostThrough(info, finalPrimary, writer)
      : writer.acked.map((a) => a.seq);
    if (floor) floor.lostWrites = splitLost(lostBeforeFloor, lost).floor.length;
    if (!finalPrimary)
      log('no single writable node at the end: every acknowledged write counts as unverified');
    if (lost.length)
      log(`LOST acknowledged writes: ${lost.slice(0, 20).join(', ')}${lost.length > 20 ? ' …' : ''}`);
    const ok = perRun.filter((r) => r.ok);
    const blackoutMs = summarize(ok.map((r) => r.blackoutMs ?? 0));
    const clientGapMs = summarize(ok.map((r) => r.clientGapMs));
    return {
      runs: perRun.length,
      masterMaster: o.masterMaster ?? false,
      failedRuns: perRun.length - ok.length,
      blackoutMs,
      clientGapMs,
      ackedWrites: writer.acked.length,
      lostWrites: lost.length,
      finalPrimary,
      labDir: o.keepLab ? labDir : null,
      perRun,
      floor,
      ratio: floor
        ? {
            clientGapP50: ratio(clientGapMs.p50, floor.clientGapMs.p50),
            blackoutP50: ratio(blackoutMs.p50, floor.blackoutMs.p50),
          }
        : null,
    };
  });
}
