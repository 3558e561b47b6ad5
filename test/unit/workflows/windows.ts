// Upgrade windows relative to now, for the window tests: "daily HH:MM-HH:MM UTC" (canonical form).
const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);

/** A daily UTC window from `fromMinutes` to `toMinutes` around `now` (negative: before now). */
export function windowAround(now: number, fromMinutes: number, toMinutes: number): string {
  return `daily ${hhmm(now + fromMinutes * 60_000)}-${hhmm(now + toMinutes * 60_000)} UTC`;
}
