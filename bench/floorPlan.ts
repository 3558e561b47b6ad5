// The pure parts of the direct-script floor (bench/floor.ts): which way each run goes, how the
// emergency script picks the replica to promote, when its probe calls the primary dead, how the
// lost writes split between the project's runs and the floor's, and the ratios printed beside
// the project's figures.
import { compareMariadbPos, parseMariadbGtidPos, type MariadbGtid } from '../domain/gtid';
import { summarize, type Summary } from './stats';

export interface FloorLeg {
  from: string;
  to: string;
}

/**
 * The planned bench's rule (bench/planned.ts): from the first host to the second and back, so the
 * floor switches the same pair the project's runs do, starting from wherever they left the primary.
 */
export function nextTarget(names: readonly string[], primary: string): string {
  if (names.length < 2) throw new Error('a switch needs two hosts');
  return primary === names[0] ? names[1] : names[0];
}

/** The floor's `runs` switches, alternating from `primary`: db1→db2, db2→db1, … */
export function alternate(names: readonly string[], primary: string, runs: number): FloorLeg[] {
  const legs: FloorLeg[] = [];
  let from = primary;
  for (let i = 0; i < runs; i++) {
    const to = nextTarget(names, from);
    legs.push({ from, to });
    from = to;
  }
  return legs;
}

/**
 * project / floor, two decimals; null when either side has no figure (no run, or a floor of 0
 * that no ratio means anything against).
 */
export function ratio(project: number, floor: number): number | null {
  if (!Number.isFinite(project) || !Number.isFinite(floor) || floor <= 0) return null;
  return Math.round((project / floor) * 100) / 100;
}

/** A replica as the emergency script reads it after stopping its IO thread. */
export interface ReplicaPosition {
  name: string;
  /** @@gtid_current_pos: what it applied (and wrote). */
  current: string;
  /** SHOW SLAVE STATUS Gtid_IO_Pos: what its relay log received ('' when nothing). */
  received: string;
}

/**
 * Where the replica will be once its relay log is applied: per domain the further of what it
 * applied and what it received. Picking on gtid_current_pos alone could pass over the replica
 * whose relay log holds the last acknowledged writes (with semi-sync, the one that acknowledged
 * them), which the script would then lose for no reason.
 */
export function reachablePosition(r: ReplicaPosition): MariadbGtid[] {
  const best = new Map<number, MariadbGtid>();
  for (const g of [...parseMariadbGtidPos(r.current), ...parseMariadbGtidPos(r.received)]) {
    const b = best.get(g.domain);
    if (!b || g.seq > b.seq) best.set(g.domain, g);
  }
  return [...best.values()].sort((a, b) => a.domain - b.domain);
}

const total = (pos: readonly MariadbGtid[]) => pos.reduce((n, g) => n + g.seq, 0);

/**
 * The most advanced replica: the one no other is ahead of (domain by domain); among equals, or
 * when histories diverged (no single one ahead of all), the largest sum of seq_no, then the first
 * in the given order. A DBA's simple rule, not the project's ranking (no promotion rules, no
 * errant-GTID check).
 */
export function mostAdvanced(replicas: readonly ReplicaPosition[]): ReplicaPosition {
  if (replicas.length === 0) throw new Error('no replica to promote');
  const pos = replicas.map((r) => ({ r, p: reachablePosition(r) }));
  const dominated = (x: (typeof pos)[number]) =>
    pos.some((y) => y !== x && compareMariadbPos(y.p, x.p).relation === 'ahead');
  const candidates = pos.filter((x) => !dominated(x));
  const pool = candidates.length ? candidates : pos;
  let best = pool[0];
  for (const x of pool.slice(1)) if (total(x.p) > total(best.p)) best = x;
  return best.r;
}

/** The script's failure detector: `needed` consecutive failed probes call the host dead. */
export class ProbeCounter {
  private failures = 0;
  constructor(private readonly needed = 3) {}
  /** Records one probe; true once the host counts as dead. */
  record(ok: boolean): boolean {
    this.failures = ok ? 0 : this.failures + 1;
    return this.failures >= this.needed;
  }
}

/**
 * The lost writes found at the end split by phase: those already missing when the project's runs
 * ended are the project's; the rest went missing during the floor's runs.
 */
export function splitLost(
  atProjectEnd: readonly number[],
  atEnd: readonly number[],
): { project: number[]; floor: number[] } {
  const before = new Set(atProjectEnd);
  return { project: [...atProjectEnd], floor: atEnd.filter((s) => !before.has(s)) };
}

/** Summary over the successful runs only, as the project's figures are. */
export function summarizeOk<T extends { ok: boolean }>(runs: readonly T[], pick: (r: T) => number): Summary {
  return summarize(runs.filter((r) => r.ok).map(pick));
}
