// Where in a scrape cycle the Alertmanager bench kills a primary (bench/emergency.ts).

/**
 * The phase (0-1) of the scrape cycle run `index` (0-based) of `runs` is killed at: the runs spread
 * evenly over the cycle, each in the middle of its own slice of it.
 */
export const phaseOfRun = (index: number, runs: number): number => (index + 0.5) / runs;

/**
 * The first moment at least `marginMs` after `nowMs` that lies `phase` of a scrape interval after
 * the start of a scrape, given the start of one (`lastScrapeMs`): scrapes of a target begin at a
 * fixed offset within each interval.
 */
export function killTime(
  lastScrapeMs: number,
  intervalMs: number,
  phase: number,
  nowMs: number,
  marginMs = 20,
): number {
  if (!(intervalMs > 0) || !(phase >= 0 && phase < 1))
    throw new RangeError(`killTime: interval ${intervalMs} ms and phase ${phase} (0 ≤ phase < 1) needed`);
  const first = lastScrapeMs + phase * intervalMs;
  const cycles = Math.max(0, Math.ceil((nowMs + marginMs - first) / intervalMs));
  return first + cycles * intervalMs;
}
