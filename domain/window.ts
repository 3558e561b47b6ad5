// Upgrade windows: "Sun 02:00-04:00 UTC" as data, when the next one opens (DST-correct, through
// Intl's time zone database), and the Temporal Schedule calendar that fires at each opening.
// Pure: the workflows call nextWindow with workflow time, so a replay computes the same instant.
import type { CalendarSpec, DayOfWeek } from '@temporalio/client';
import { z } from 'zod';
import { lazySchema } from './lazySchema';

/** 0 = Sunday … 6 = Saturday, as Date#getUTCDay counts. */
export type Weekday = 0 | 1 | 2 | 3 | 4 | 5 | 6;

export interface WallTime {
  h: number;
  m: number;
}

export interface UpgradeWindow {
  /** The days the window opens on, in the zone's calendar; a window crossing midnight closes the day after. */
  days: Weekday[];
  start: WallTime;
  /** 24:00 means the end of the opening day. */
  end: WallTime;
  /** IANA name, canonical as Intl resolves it (e.g. "Europe/Paris", "UTC"). */
  timeZone: string;
}

export interface WindowOccurrence {
  opensAt: Date;
  closesAt: Date;
  /** `now` is inside this occurrence (opensAt ≤ now < closesAt). */
  openNow: boolean;
}

const EXAMPLE =
  'for example "Sun 02:00-04:00 UTC", "Mon-Fri 01:00-03:00 Europe/Paris", "Sat,Sun 22:00-02:00 America/New_York" or "daily 03:00-04:00 UTC"';

const DAY_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const LONG_DAY_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const TEMPORAL_DAYS: readonly DayOfWeek[] = [
  'SUNDAY',
  'MONDAY',
  'TUESDAY',
  'WEDNESDAY',
  'THURSDAY',
  'FRIDAY',
  'SATURDAY',
];

export class WindowError extends Error {
  override readonly name = 'WindowError';
}

function fail(text: string, problem: string): never {
  throw new WindowError(`invalid window "${text}": ${problem}; ${EXAMPLE}`);
}

function weekday(text: string, word: string): Weekday {
  const w = word.toLowerCase();
  const i = LONG_DAY_NAMES.findIndex((d) => w.length >= 3 && d.startsWith(w));
  if (i < 0)
    fail(text, `"${word}" is not a day (Sun, Mon, Tue, Wed, Thu, Fri, Sat, a range Mon-Fri, or daily)`);
  return i as Weekday;
}

function days(text: string, spec: string): Weekday[] {
  if (/^(daily|everyday|\*)$/i.test(spec)) return [0, 1, 2, 3, 4, 5, 6];
  const set = new Set<Weekday>();
  for (const item of spec.split(',')) {
    if (!item) fail(text, `empty day in "${spec}"`);
    const [from, to, extra] = item.split('-');
    if (extra !== undefined) fail(text, `"${item}" is not a day range (write Mon-Fri)`);
    const a = weekday(text, from);
    if (to === undefined) {
      set.add(a);
      continue;
    }
    const b = weekday(text, to);
    // A range may wrap the week: Fri-Mon is Fri, Sat, Sun, Mon.
    for (let d = a; ; d = ((d + 1) % 7) as Weekday) {
      set.add(d);
      if (d === b) break;
    }
  }
  return [...set].sort((x, y) => x - y);
}

function wallTime(text: string, hhmm: string, isEnd: boolean): WallTime {
  const m = /^(\d{1,2}):(\d{2})$/.exec(hhmm);
  if (!m) fail(text, `"${hhmm}" is not a time (HH:MM, 24-hour)`);
  const t = { h: Number(m[1]), m: Number(m[2]) };
  const endOfDay = isEnd && t.h === 24 && t.m === 0;
  if (!endOfDay && (t.h > 23 || t.m > 59))
    fail(
      text,
      `"${hhmm}" is not a time of day (00:00 to 23:59${isEnd ? ', or 24:00 for the end of the day' : ''})`,
    );
  return t;
}

/** The canonical IANA name of a zone Intl knows; throws with the problem and an example otherwise. */
export function timeZoneName(text: string, zone: string): string {
  // Offsets ("+02:00") and abbreviations ("CEST") are refused: the Temporal server loads zones by
  // IANA name, and an abbreviation does not say when daylight saving time starts.
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(zone))
    fail(text, `"${zone}" is not an IANA time zone name (e.g. UTC, Europe/Paris)`);
  try {
    // Intl fixes the case ("utc" is "UTC") but may also swap an alias ("Asia/Kolkata" for
    // "Asia/Calcutta"): keep the name as written then, both are in the server's database.
    const resolved = new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
    return resolved.toLowerCase() === zone.toLowerCase() ? resolved : zone;
  } catch {
    return fail(
      text,
      `unknown time zone "${zone}" (an IANA name such as UTC, Europe/Paris, America/New_York)`,
    );
  }
}

/** Parses "DAYS HH:MM-HH:MM ZONE"; the error names the part that is wrong and gives examples. */
export function parseWindow(text: string): UpgradeWindow {
  const parts = text.trim().split(/\s+/);
  if (parts.length !== 3 || !parts[0])
    fail(text, 'expected three parts: the days, HH:MM-HH:MM, and an IANA time zone');
  const [daySpec, range, zone] = parts;
  const times = range.split('-');
  if (times.length !== 2) fail(text, `"${range}" is not a time range (HH:MM-HH:MM)`);
  const start = wallTime(text, times[0], false);
  const end = wallTime(text, times[1], true);
  if (start.h === end.h && start.m === end.m)
    fail(text, `the window is empty (it opens and closes at ${times[0]}); for all day write 00:00-24:00`);
  return { days: days(text, daySpec), start, end, timeZone: timeZoneName(text, zone) };
}

const two = (n: number) => String(n).padStart(2, '0');
const hhmm = (t: WallTime) => `${two(t.h)}:${two(t.m)}`;

/** The canonical text of a window; parseWindow(formatWindow(w)) equals w. */
export function formatWindow(w: UpgradeWindow): string {
  let daysText: string;
  if (w.days.length === 7) daysText = 'daily';
  else {
    // Runs of consecutive days, across the week's end too: three or more as a range (Mon-Fri,
    // Fri-Mon), shorter ones listed (Sat,Sun).
    const has = (d: number) => w.days.includes(((d + 7) % 7) as Weekday);
    const first = w.days.find((d) => !has(d - 1)) ?? w.days[0];
    const runs: Weekday[][] = [];
    for (let i = 0; i < 7; i++) {
      const d = ((first + i) % 7) as Weekday;
      if (!has(d)) continue;
      const last = runs[runs.length - 1];
      if (last && last[last.length - 1] === (d + 6) % 7) last.push(d);
      else runs.push([d]);
    }
    daysText = runs
      .map((r) =>
        r.length >= 3
          ? `${DAY_NAMES[r[0]]}-${DAY_NAMES[r[r.length - 1]]}`
          : r.map((d) => DAY_NAMES[d]).join(','),
      )
      .join(',');
  }
  return `${daysText} ${hhmm(w.start)}-${hhmm(w.end)} ${w.timeZone}`;
}

/** A runbook input's `window`: a string parseWindow accepts. */
export const WindowSchema = lazySchema(() =>
  z.string().superRefine((s, ctx) => {
    try {
      parseWindow(s);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
    }
  }),
);

// --- time zones -------------------------------------------------------------------------------

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The zone's offset from UTC at an instant, in ms (local wall clock − UTC). */
export function zoneOffsetMs(timeZone: string, instant: number): number {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      era: 'short',
    });
    formatters.set(timeZone, f);
  }
  const p: Record<string, string> = {};
  for (const { type, value } of f.formatToParts(instant)) p[type] = value;
  const year = p.era === 'BC' || p.era === 'B' ? 1 - Number(p.year) : Number(p.year);
  const wall = Date.UTC(
    year,
    Number(p.month) - 1,
    Number(p.day),
    Number(p.hour),
    Number(p.minute),
    Number(p.second),
  );
  return wall - Math.floor(instant / 1000) * 1000;
}

export interface ResolvedWallTime {
  instant: number;
  /** exact; gap: the wall time does not exist (clocks jumped over it); overlap: it happens twice. */
  kind: 'exact' | 'gap' | 'overlap';
}

/**
 * The instant of a wall-clock time in a zone (month 1-12; day and hour may overflow, as Date.UTC
 * allows), disambiguated as TC39 Temporal's "compatible" does: a time that happens twice is the
 * earlier one, a time skipped by the clocks is read with the offset before the jump (02:30 on a
 * spring-forward night at 02:00 is 03:30).
 */
export function wallTimeToInstant(
  timeZone: string,
  y: number,
  month: number,
  day: number,
  h: number,
  m: number,
): ResolvedWallTime {
  const local = Date.UTC(y, month - 1, day, h, m);
  // Real zones change offset at most once within a day, so the offsets a day either side are
  // the only candidates.
  const before = zoneOffsetMs(timeZone, local - 86_400_000);
  const after = zoneOffsetMs(timeZone, local + 86_400_000);
  const valid = [...new Set([before, after])]
    .map((o) => local - o)
    .filter((t) => t + zoneOffsetMs(timeZone, t) === local)
    .sort((a, b) => a - b);
  if (valid.length === 0) return { instant: local - before, kind: 'gap' };
  return { instant: valid[0], kind: valid.length > 1 ? 'overlap' : 'exact' };
}

/** The calendar date (in the zone) an instant falls on. */
function localDate(timeZone: string, instant: number): { y: number; month: number; day: number } {
  const d = new Date(instant + zoneOffsetMs(timeZone, instant));
  return { y: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

const minutes = (t: WallTime) => t.h * 60 + t.m;
export const crossesMidnight = (w: UpgradeWindow): boolean => minutes(w.end) <= minutes(w.start);

/** Every occurrence opening on a local day in [firstDay, firstDay + count), in order. */
function* occurrences(w: UpgradeWindow, from: { y: number; month: number; day: number }, count: number) {
  const closeDayOffset = crossesMidnight(w) ? 1 : 0;
  for (let i = 0; i < count; i++) {
    const date = new Date(Date.UTC(from.y, from.month - 1, from.day + i));
    if (!w.days.includes(date.getUTCDay() as Weekday)) continue;
    const [y, month, day] = [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()];
    const open = wallTimeToInstant(w.timeZone, y, month, day, w.start.h, w.start.m);
    const close = wallTimeToInstant(w.timeZone, y, month, day + closeDayOffset, w.end.h, w.end.m);
    // A short window inside a DST jump can vanish; it does not happen that day.
    if (close.instant > open.instant) yield { date: { y, month, day }, open, close };
  }
}

/**
 * The occurrence of the window that contains `now`, or else the next one to open. Days and hours
 * are the zone's wall clock, so a window keeps its local hours across daylight saving changes.
 */
export function nextWindow(w: UpgradeWindow, now: Date): WindowOccurrence {
  const t = now.getTime();
  const today = localDate(w.timeZone, t);
  // Yesterday's occurrence may still be open (it crosses midnight); within 8 days one opens.
  for (const o of occurrences(w, { ...today, day: today.day - 1 }, 10)) {
    if (o.close.instant <= t) continue;
    return {
      opensAt: new Date(o.open.instant),
      closesAt: new Date(o.close.instant),
      openNow: o.open.instant <= t,
    };
  }
  throw new WindowError(`window ${formatWindow(w)} never opens`); // unreachable: days is never empty
}

export interface OpeningAnomaly {
  /** The local date of the opening, YYYY-MM-DD. */
  date: string;
  kind: 'skipped' | 'repeated';
  detail: string;
}

/**
 * Openings within `days` days after `from` that daylight saving time skips or repeats. Temporal
 * matches calendars on the literal wall clock: it does not fire at a skipped time and fires twice
 * at a repeated one, so these are the weeks a schedule misses its window or starts two runs.
 */
export function openingAnomalies(w: UpgradeWindow, from: Date, days = 366): OpeningAnomaly[] {
  const out: OpeningAnomaly[] = [];
  for (const o of occurrences(w, localDate(w.timeZone, from.getTime()), days)) {
    if (o.open.kind === 'exact') continue;
    const date = `${o.date.y}-${two(o.date.month)}-${two(o.date.day)}`;
    out.push(
      o.open.kind === 'gap'
        ? {
            date,
            kind: 'skipped',
            detail: `${hhmm(w.start)} does not exist on ${date} in ${w.timeZone} (clocks jump forward): the window opens at ${new Date(o.open.instant).toISOString()} but the schedule does not fire that day`,
          }
        : {
            date,
            kind: 'repeated',
            detail: `${hhmm(w.start)} happens twice on ${date} in ${w.timeZone} (clocks go back): the schedule fires twice; a run still going when the second fires is skipped, a finished one is not`,
          },
    );
  }
  return out;
}

// --- Temporal Schedules -----------------------------------------------------------------------

/** The ScheduleSpec part that starts a run at each opening of the window, in the window's zone. */
export function windowToCalendarSpecs(w: UpgradeWindow): { calendars: CalendarSpec[]; timezone: string } {
  return {
    calendars: [
      {
        second: 0,
        minute: w.start.m,
        hour: w.start.h,
        dayOfWeek: w.days.map((d) => TEMPORAL_DAYS[d]),
        comment: `opening of the window ${formatWindow(w)}`,
      },
    ],
    timezone: w.timeZone,
  };
}

const CRON_EXAMPLE = 'for example "0 2 * * 0" (Sundays at 02:00) or "CRON_TZ=Europe/Paris 30 1 * * Mon-Fri"';
const CRON_SHORTHANDS = /^@(yearly|annually|monthly|weekly|daily|midnight|hourly)$/i;
const CRON_EVERY = /^@every \d+[smhd](\/\d+[smhd])?$/i;
const MONTH_NAMES = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

interface CronField {
  name: string;
  min: number;
  max: number;
  names?: string[];
  /** Value of the first name (months count from 1). */
  base?: number;
}
const SECOND: CronField = { name: 'second', min: 0, max: 59 };
const MINUTE: CronField = { name: 'minute', min: 0, max: 59 };
const HOUR: CronField = { name: 'hour', min: 0, max: 23 };
const DOM: CronField = { name: 'day of month', min: 1, max: 31 };
const MONTH: CronField = { name: 'month', min: 1, max: 12, names: MONTH_NAMES, base: 1 };
const DOW: CronField = {
  name: 'day of week',
  min: 0,
  max: 7,
  names: DAY_NAMES.map((d) => d.toLowerCase()),
  base: 0,
};
const YEAR: CronField = { name: 'year', min: 1970, max: 2999 };
const LAYOUTS: Record<number, CronField[]> = {
  5: [MINUTE, HOUR, DOM, MONTH, DOW],
  6: [MINUTE, HOUR, DOM, MONTH, DOW, YEAR],
  7: [SECOND, MINUTE, HOUR, DOM, MONTH, DOW, YEAR],
};

/**
 * Checks a cron expression the way the Temporal server reads it (5, 6 or 7 fields, names for
 * months and days, @shorthands, @every, a CRON_TZ= prefix, a # comment) and returns it trimmed;
 * the error names the field and the value, so a typo is caught before the schedule is created.
 */
export function validateCron(expr: string): string {
  const bad = (problem: string): never => {
    throw new WindowError(`invalid cron "${expr}": ${problem}; ${CRON_EXAMPLE}`);
  };
  let rest = expr.trim().replace(/\s*#.*$/, '');
  const tz = /^(?:CRON_TZ|TZ)=(\S+)\s+/.exec(rest);
  if (tz) {
    try {
      timeZoneName(expr, tz[1]);
    } catch {
      bad(`unknown time zone "${tz[1]}" (an IANA name such as UTC, Europe/Paris)`);
    }
    rest = rest.slice(tz[0].length);
  }
  if (!rest) bad('it is empty');
  if (CRON_SHORTHANDS.test(rest) || CRON_EVERY.test(rest)) return expr.trim();
  if (rest.startsWith('@'))
    bad(`unknown shorthand "${rest}" (@yearly, @monthly, @weekly, @daily, @hourly, @every 1h)`);
  const fields = rest.split(/\s+/);
  const layout = LAYOUTS[fields.length];
  if (!layout)
    bad(
      `${fields.length} fields; expected 5 (minute hour day-of-month month day-of-week), 6 (+ year) or 7 (second first)`,
    );
  fields.forEach((text, i) => cronField(layout[i], text, bad));
  return expr.trim();
}

function cronField(f: CronField, text: string, bad: (problem: string) => never): void {
  const value = (v: string): number => {
    const name = f.names?.indexOf(v.toLowerCase()) ?? -1;
    const n = name >= 0 ? name + (f.base ?? 0) : /^\d+$/.test(v) ? Number(v) : NaN;
    if (!Number.isInteger(n) || n < f.min || n > f.max)
      bad(
        `${f.name} "${v}" is out of range ${f.min}-${f.max}${f.names ? ` (or a name: ${f.names.slice(0, 3).join(', ')}, …)` : ''}`,
      );
    return n;
  };
  for (const item of text.split(',')) {
    const [range, step, extra] = item.split('/');
    if (extra !== undefined || (step !== undefined && !/^[1-9]\d*$/.test(step)))
      bad(`${f.name} "${item}" has a bad step (write */15 or 0-30/5)`);
    if (range === '*' || range === '?') continue;
    const [a, b, more] = range.split('-');
    if (more !== undefined || a === '' || b === '') bad(`${f.name} "${item}" is not a value or a range`);
    const lo = value(a);
    if (b !== undefined && value(b) < lo) bad(`${f.name} range "${range}" ends before it starts`);
  }
}
