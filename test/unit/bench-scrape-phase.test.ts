import { killTime, phaseOfRun } from '../../bench/scrapePhase';

describe('the Alertmanager bench spreads its kills over the scrape cycle', () => {
  test('run i of n is killed in the middle of its own slice of the cycle', () => {
    expect([0, 1, 2, 3].map((i) => phaseOfRun(i, 4))).toEqual([0.125, 0.375, 0.625, 0.875]);
    const ten = Array.from({ length: 10 }, (_, i) => phaseOfRun(i, 10));
    expect(ten[0]).toBeCloseTo(0.05);
    expect(ten[9]).toBeCloseTo(0.95);
    expect(ten.every((p) => p > 0 && p < 1)).toBe(true);
  });

  test('the kill lands at the phase of a later scrape, never in the past or inside the margin', () => {
    // Last scrape began at 1000, interval 1000: phase 0.25 is at 1250, 2250, 3250…
    expect(killTime(1000, 1000, 0.25, 1100)).toBe(1250);
    expect(killTime(1000, 1000, 0.25, 1240)).toBe(2250); // 1250 is within the 20 ms margin
    expect(killTime(1000, 1000, 0.25, 1230, 0)).toBe(1250);
    expect(killTime(1000, 1000, 0.25, 5000)).toBe(5250);
    expect(killTime(1000, 1000, 0.9, 900)).toBe(1900);
  });

  test('the kill is at the phase asked for, less than a cycle after the margin, from any later time', () => {
    for (const now of [1000, 1001, 1999, 12_345, 99_999]) {
      const at = killTime(1000, 1000, 0.6, now);
      expect(at).toBeGreaterThanOrEqual(now + 20);
      expect(at - now).toBeLessThan(1000 + 20);
      expect((((at - 1000) % 1000) + 1000) % 1000).toBeCloseTo(600);
    }
  });

  test('a phase outside [0, 1) or an empty interval is refused', () => {
    expect(() => killTime(0, 1000, 1, 0)).toThrow(/0 ≤ phase < 1/);
    expect(() => killTime(0, 1000, -0.1, 0)).toThrow(/phase -0.1/);
    expect(() => killTime(0, 0, 0.5, 0)).toThrow(/interval 0 ms/);
  });
});
