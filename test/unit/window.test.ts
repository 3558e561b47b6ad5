// Upgrade windows: parsing, the next occurrence across daylight saving changes (checked against
// Intl's own wall clock, an oracle independent of the offset arithmetic), the schedule calendar
// that fires at each opening, and cron checks.
import fc from 'fast-check';
import { parseInput, PlannedSuccessoverInputSchema, RUNBOOKS, WindowSchema } from '../../domain/runbook';
import {
  formatWindow,
  nextWindow,
  openingAnomalies,
  parseWindow,
  validateCron,
  wallTimeToInstant,
  windowToCalendarSpecs,
  type UpgradeWindow,
  type Weekday,
} from '../../domain/window';

const at = (iso: string) => new Date(iso);
const iso = (d: Date) => d.toISOString().replace('.000Z', 'Z');
const occurrence = (spec: string, now: string) => {
  const o = nextWindow(parseWindow(spec), at(now));
  return { opensAt: iso(o.opensAt), closesAt: iso(o.closesAt), openNow: o.openNow };
};

describe('parseWindow', () => {
  test('a day, hours and a zone', () => {
    expect(parseWindow('Sun 02:00-04:00 UTC')).toEqual({
      days: [0],
      start: { h: 2, m: 0 },
      end: { h: 4, m: 0 },
      timeZone: 'UTC',
    });
  });

  test('day lists, ranges (also across the week end), daily, and names in any case', () => {
    expect(parseWindow('Sat,Sun 22:00-02:00 Europe/Paris').days).toEqual([0, 6]);
    expect(parseWindow('Mon-Fri 01:00-03:00 UTC').days).toEqual([1, 2, 3, 4, 5]);
    expect(parseWindow('Fri-Mon 01:00-03:00 UTC').days).toEqual([0, 1, 5, 6]);
    expect(parseWindow('daily 03:00-04:00 UTC').days).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(parseWindow('sunday,TUE 03:00-04:00 UTC').days).toEqual([0, 2]);
    expect(parseWindow('Mon,Mon-Tue 03:00-04:00 UTC').days).toEqual([1, 2]);
  });

  test('single-digit hours, 24:00 as the end of the day, zones in canonical spelling', () => {
    const w = parseWindow('  Sun   2:30-24:00   europe/paris ');
    expect(w).toEqual({ days: [0], start: { h: 2, m: 30 }, end: { h: 24, m: 0 }, timeZone: 'Europe/Paris' });
    expect(parseWindow('Sun 02:00-04:00 utc').timeZone).toBe('UTC');
    // An alias Intl would swap for another stays as written.
    expect(parseWindow('Sun 02:00-04:00 Asia/Kolkata').timeZone).toBe('Asia/Kolkata');
  });

  test.each([
    ['Sun 02:00-04:00', /expected three parts: the days, HH:MM-HH:MM, and an IANA time zone/],
    ['Sun 2am-4am UTC', /"2am" is not a time \(HH:MM, 24-hour\)/],
    ['Sun 02:00 UTC', /"02:00" is not a time range \(HH:MM-HH:MM\)/],
    ['Sun 24:00-02:00 UTC', /"24:00" is not a time of day \(00:00 to 23:59\)/],
    [
      'Sun 02:00-24:30 UTC',
      /"24:30" is not a time of day \(00:00 to 23:59, or 24:00 for the end of the day\)/,
    ],
    ['Sun 02:60-04:00 UTC', /"02:60" is not a time of day/],
    [
      'Sun 02:00-02:00 UTC',
      /the window is empty \(it opens and closes at 02:00\); for all day write 00:00-24:00/,
    ],
    [
      'Sunday-Funday 02:00-04:00 UTC',
      /"Funday" is not a day \(Sun, Mon, Tue, Wed, Thu, Fri, Sat, a range Mon-Fri, or daily\)/,
    ],
    ['Su 02:00-04:00 UTC', /"Su" is not a day/],
    ['Mon-Wed-Fri 02:00-04:00 UTC', /"Mon-Wed-Fri" is not a day range/],
    ['Mon,,Tue 02:00-04:00 UTC', /empty day in "Mon,,Tue"/],
    ['Sun 02:00-04:00 Mars/Olympus', /unknown time zone "Mars\/Olympus" \(an IANA name such as UTC/],
    ['Sun 02:00-04:00 CEST', /unknown time zone "CEST"/],
    ['Sun 02:00-04:00 +02:00', /"\+02:00" is not an IANA time zone name/],
  ])('%s is refused with the problem and an example', (text, problem) => {
    expect(() => parseWindow(text)).toThrow(problem);
    expect(() => parseWindow(text)).toThrow(`invalid window "${text}"`);
    expect(() => parseWindow(text)).toThrow(/for example "Sun 02:00-04:00 UTC"/);
  });

  test('formatWindow writes the canonical text, which parses back to the same window', () => {
    expect(formatWindow(parseWindow('Sun,Sat 22:00-2:00 europe/paris'))).toBe(
      'Sat,Sun 22:00-02:00 Europe/Paris',
    );
    expect(formatWindow(parseWindow('Mon,Tue,Wed,Thu,Fri 01:00-03:00 UTC'))).toBe('Mon-Fri 01:00-03:00 UTC');
    expect(formatWindow(parseWindow('Sat-Mon 01:00-03:00 UTC'))).toBe('Sat-Mon 01:00-03:00 UTC');
    expect(formatWindow(parseWindow('Sun-Sat 01:00-03:00 UTC'))).toBe('daily 01:00-03:00 UTC');
    fc.assert(
      fc.property(arbWindow, (w) => {
        expect(parseWindow(formatWindow(w))).toEqual(w);
      }),
      { numRuns: 300 },
    );
  });
});

describe('WindowSchema in runbook inputs', () => {
  test('a planned successover input may carry a window; a bad one names the field and the problem', () => {
    expect(
      parseInput(PlannedSuccessoverInputSchema, RUNBOOKS.planned, {
        cluster: 'lab',
        window: 'Sun 02:00-04:00 UTC',
      }).window,
    ).toBe('Sun 02:00-04:00 UTC');
    expect(
      parseInput(PlannedSuccessoverInputSchema, RUNBOOKS.planned, { cluster: 'lab' }).window,
    ).toBeUndefined();
    expect(() =>
      parseInput(PlannedSuccessoverInputSchema, RUNBOOKS.planned, { cluster: 'lab', window: 'Sun 02:00' }),
    ).toThrow(/invalid planned-successover input: window: invalid window "Sun 02:00": expected three parts/);
    expect(WindowSchema.safeParse(42).success).toBe(false);
  });
});

describe('nextWindow', () => {
  test('before, inside, at the end of a UTC window', () => {
    // 2025-06-07 is a Saturday.
    expect(occurrence('Sun 02:00-04:00 UTC', '2025-06-07T12:00:00Z')).toEqual({
      opensAt: '2025-06-08T02:00:00Z',
      closesAt: '2025-06-08T04:00:00Z',
      openNow: false,
    });
    expect(occurrence('Sun 02:00-04:00 UTC', '2025-06-08T02:00:00Z').openNow).toBe(true);
    expect(occurrence('Sun 02:00-04:00 UTC', '2025-06-08T03:59:59.999Z')).toMatchObject({
      opensAt: '2025-06-08T02:00:00Z',
      openNow: true,
    });
    // The end is exclusive: at 04:00 the next one is a week later.
    expect(occurrence('Sun 02:00-04:00 UTC', '2025-06-08T04:00:00Z')).toEqual({
      opensAt: '2025-06-15T02:00:00Z',
      closesAt: '2025-06-15T04:00:00Z',
      openNow: false,
    });
  });

  test('a window crossing midnight is open on the next day until it closes', () => {
    // Mon 2025-06-09 00:30 in Paris (CEST, +02:00): Sunday's 22:00-02:00 window is open.
    expect(occurrence('Sat,Sun 22:00-02:00 Europe/Paris', '2025-06-08T22:30:00Z')).toEqual({
      opensAt: '2025-06-08T20:00:00Z',
      closesAt: '2025-06-09T00:00:00Z',
      openNow: true,
    });
    // Mon 02:00 Paris: closed; Saturday's is next.
    expect(occurrence('Sat,Sun 22:00-02:00 Europe/Paris', '2025-06-09T00:00:00Z')).toMatchObject({
      opensAt: '2025-06-14T20:00:00Z',
      openNow: false,
    });
    expect(occurrence('daily 22:00-24:00 UTC', '2025-06-09T23:00:00Z')).toEqual({
      opensAt: '2025-06-09T22:00:00Z',
      closesAt: '2025-06-10T00:00:00Z',
      openNow: true,
    });
  });

  test('windows keep their wall-clock hours across daylight saving changes', () => {
    // Summer and winter in Paris: the same local hours, different UTC instants.
    expect(occurrence('Sun 02:00-04:00 Europe/Paris', '2025-07-01T00:00:00Z').opensAt).toBe(
      '2025-07-06T00:00:00Z',
    );
    expect(occurrence('Sun 02:00-04:00 Europe/Paris', '2025-12-01T00:00:00Z').opensAt).toBe(
      '2025-12-07T01:00:00Z',
    );
    // New York springs forward at 02:00 on 2025-03-09: 01:00 EST to 03:00 EDT is one hour.
    expect(occurrence('Sun 01:00-03:00 America/New_York', '2025-03-08T12:00:00Z')).toEqual({
      opensAt: '2025-03-09T06:00:00Z',
      closesAt: '2025-03-09T07:00:00Z',
      openNow: false,
    });
  });

  test('an opening the clocks skip is read after the jump; a repeated one is the first', () => {
    // Paris, 2025-03-30: 02:00 CET jumps to 03:00 CEST, so 02:30 is 03:30 CEST.
    expect(occurrence('Sun 02:30-04:00 Europe/Paris', '2025-03-29T12:00:00Z')).toEqual({
      opensAt: '2025-03-30T01:30:00Z',
      closesAt: '2025-03-30T02:00:00Z',
      openNow: false,
    });
    // Paris, 2025-10-26: 03:00 CEST goes back to 02:00 CET; 02:30 CEST to 04:00 CET is 2.5 h.
    expect(occurrence('Sun 02:30-04:00 Europe/Paris', '2025-10-25T12:00:00Z')).toEqual({
      opensAt: '2025-10-26T00:30:00Z',
      closesAt: '2025-10-26T03:00:00Z',
      openNow: false,
    });
    // Lord Howe Island moves by half an hour: 02:00 (+10:30) jumps to 02:30 (+11:00).
    expect(occurrence('daily 02:00-03:00 Australia/Lord_Howe', '2025-10-04T12:00:00Z')).toEqual({
      opensAt: '2025-10-04T15:30:00Z',
      closesAt: '2025-10-04T16:00:00Z',
      openNow: false,
    });
    expect(wallTimeToInstant('Europe/Paris', 2025, 3, 30, 2, 30).kind).toBe('gap');
    expect(wallTimeToInstant('Europe/Paris', 2025, 10, 26, 2, 30).kind).toBe('overlap');
    expect(wallTimeToInstant('Europe/Paris', 2025, 10, 26, 4, 0)).toEqual({
      instant: Date.parse('2025-10-26T03:00:00Z'),
      kind: 'exact',
    });
  });

  test('openingAnomalies lists the days a schedule would miss or repeat the opening', () => {
    const a = openingAnomalies(parseWindow('Sun 02:30-04:00 Europe/Paris'), at('2025-01-01T00:00:00Z'));
    expect(a.map((x) => [x.date, x.kind])).toEqual([
      ['2025-03-30', 'skipped'],
      ['2025-10-26', 'repeated'],
    ]);
    expect(a[0].detail).toMatch(/02:30 does not exist on 2025-03-30 in Europe\/Paris/);
    expect(openingAnomalies(parseWindow('Sun 04:00-05:00 Europe/Paris'), at('2025-01-01T00:00:00Z'))).toEqual(
      [],
    );
    expect(openingAnomalies(parseWindow('daily 02:30-04:00 UTC'), at('2025-01-01T00:00:00Z'))).toEqual([]);
  });
});

// Zones with fixed offsets, DST at 01:00/02:00/03:00, half-hour offsets and half-hour DST, DST at
// midnight (Santiago, Havana), southern hemisphere.
const ZONES = [
  'UTC',
  'Europe/Paris',
  'Europe/London',
  'America/New_York',
  'America/St_Johns',
  'America/Santiago',
  'America/Havana',
  'Australia/Lord_Howe',
  'Australia/Sydney',
  'Asia/Kathmandu',
  'Asia/Kolkata',
  'Pacific/Chatham',
];

const arbDays = fc
  .subarray([0, 1, 2, 3, 4, 5, 6] as Weekday[], { minLength: 1 })
  .map((d) => [...d].sort((a, b) => a - b));
const arbWindow: fc.Arbitrary<UpgradeWindow> = fc
  .record({
    days: arbDays,
    start: fc.record({ h: fc.integer({ min: 0, max: 23 }), m: fc.integer({ min: 0, max: 59 }) }),
    // Most windows are whole quarter hours; any minute must work.
    length: fc.oneof(
      fc.integer({ min: 1, max: 96 }).map((q) => q * 15),
      fc.integer({ min: 1, max: 1439 }),
    ),
    timeZone: fc.constantFrom(...ZONES),
  })
  .map(({ days, start, length, timeZone }) => {
    const endMin = (start.h * 60 + start.m + Math.min(length, 1439)) % 1440;
    const end = endMin === 0 ? { h: 24, m: 0 } : { h: Math.floor(endMin / 60), m: endMin % 60 };
    return { days, start, end, timeZone };
  })
  .filter((w) => !(w.start.h === w.end.h && w.start.m === w.end.m));
const arbNow = fc
  .integer({ min: Date.parse('2000-01-01T00:00:00Z'), max: Date.parse('2040-01-01T00:00:00Z') })
  .map((t) => new Date(t));

/** The zone's wall clock at an instant, straight from Intl (independent of domain/window's arithmetic). */
function wall(timeZone: string, t: number): { weekday: number; minute: number } {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(t);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return {
    weekday: ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(get('weekday')),
    minute: Number(get('hour')) * 60 + Number(get('minute')),
  };
}

/** Is the wall clock at t inside the window? (Exact away from DST changes.) */
function openByWallClock(w: UpgradeWindow, t: number): boolean {
  const { weekday, minute } = wall(w.timeZone, t);
  const s = w.start.h * 60 + w.start.m;
  const e = w.end.h * 60 + w.end.m;
  if (e > s) return w.days.includes(weekday as Weekday) && minute >= s && minute < e;
  return (
    (w.days.includes(weekday as Weekday) && minute >= s) ||
    (w.days.includes(((weekday + 6) % 7) as Weekday) && minute < e)
  );
}

/** No offset change from two days before to nine days after t. */
function noTransitionAround(timeZone: string, t: number): boolean {
  const offset = (x: number) => {
    const local = new Date(x).toLocaleString('sv-SE', { timeZone }).replace(' ', 'T');
    return Date.parse(`${local}Z`) - Math.floor(x / 1000) * 1000;
  };
  const o = offset(t);
  for (let d = -2; d <= 9; d++) if (offset(t + d * 86_400_000) !== o) return false;
  return true;
}

describe('nextWindow properties', () => {
  const RUNS = { numRuns: 400 };

  test('the occurrence contains now, or is the next to open, within eight days', () => {
    fc.assert(
      fc.property(arbWindow, arbNow, (w, now) => {
        const o = nextWindow(w, now);
        const t = now.getTime();
        expect(o.closesAt.getTime()).toBeGreaterThan(o.opensAt.getTime());
        expect(o.openNow).toBe(o.opensAt.getTime() <= t && t < o.closesAt.getTime());
        if (!o.openNow) {
          expect(o.opensAt.getTime()).toBeGreaterThan(t);
          expect(o.opensAt.getTime() - t).toBeLessThanOrEqual(8 * 86_400_000);
        }
      }),
      RUNS,
    );
  });

  test('no occurrence is skipped: between now and the opening the window stays closed', () => {
    fc.assert(
      fc.property(
        arbWindow,
        arbNow,
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (w, now, f) => {
          const o = nextWindow(w, now);
          // Asked again at the opening, it is open and the same; asked at any instant before, closed.
          expect(nextWindow(w, o.opensAt)).toEqual({ ...o, openNow: true });
          if (o.openNow) return;
          const between = new Date(now.getTime() + Math.floor(f * (o.opensAt.getTime() - now.getTime())));
          const b = nextWindow(w, between);
          expect(b.opensAt).toEqual(o.opensAt);
          expect(b.openNow).toBe(false);
        },
      ),
      RUNS,
    );
  });

  test('away from DST changes, it agrees with the wall clock Intl shows', () => {
    fc.assert(
      fc.property(arbWindow, arbNow, (w, now) => {
        fc.pre(noTransitionAround(w.timeZone, now.getTime()));
        const o = nextWindow(w, now);
        const open = o.opensAt.getTime();
        const close = o.closesAt.getTime();
        expect(openByWallClock(w, now.getTime())).toBe(o.openNow);
        expect(openByWallClock(w, open)).toBe(true);
        expect(openByWallClock(w, close - 60_000)).toBe(true);
        // Just outside: closed, unless the neighbour occurrence touches this one (e.g. 00:00-24:00).
        if (!nextWindow(w, new Date(open - 1)).openNow) expect(openByWallClock(w, open - 60_000)).toBe(false);
        if (nextWindow(w, o.closesAt).opensAt.getTime() > close)
          expect(openByWallClock(w, close)).toBe(false);
        // The schedule's calendar matches the opening's wall clock.
        const spec = windowToCalendarSpecs(w);
        const { weekday, minute } = wall(w.timeZone, open);
        const c = spec.calendars[0];
        expect(spec.timezone).toBe(w.timeZone);
        expect(Number(c.hour) * 60 + Number(c.minute)).toBe(minute);
        expect(c.dayOfWeek).toContain(
          ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'][weekday],
        );
      }),
      RUNS,
    );
  });
});

describe('windowToCalendarSpecs', () => {
  test('fires at second 0 of the opening minute on the window days, in its zone', () => {
    expect(windowToCalendarSpecs(parseWindow('Sat,Sun 22:30-02:00 Europe/Paris'))).toEqual({
      calendars: [
        {
          second: 0,
          minute: 30,
          hour: 22,
          dayOfWeek: ['SUNDAY', 'SATURDAY'],
          comment: 'opening of the window Sat,Sun 22:30-02:00 Europe/Paris',
        },
      ],
      timezone: 'Europe/Paris',
    });
  });
});

describe('validateCron', () => {
  test.each([
    '0 2 * * 0',
    '0 2 * * SUN',
    '30 1 * * Mon-Fri',
    '*/15 * * * *',
    '0-30/10 2 1,15 Jan-Mar ?',
    '0 2 * * 0 2030',
    '0 0 2 * * 0 2030',
    '@weekly',
    '@every 90m',
    '@every 1h/15m',
    'CRON_TZ=Europe/Paris 0 2 * * 0',
    'TZ=UTC 0 2 * * 7',
    '0 2 * * 0 # weekly switchover',
  ])('%s is accepted', (cron) => {
    expect(validateCron(`  ${cron} `)).toBe(cron);
  });

  test.each([
    ['0 25 * * *', /hour "25" is out of range 0-23/],
    ['60 2 * * *', /minute "60" is out of range 0-59/],
    ['0 2 0 * *', /day of month "0" is out of range 1-31/],
    ['0 2 * Foo *', /month "Foo" is out of range 1-12 \(or a name: jan, feb, mar, …\)/],
    ['0 2 * * 8', /day of week "8" is out of range 0-7/],
    ['0 2 * *', /4 fields; expected 5 \(minute hour day-of-month month day-of-week\), 6 \(\+ year\) or 7/],
    ['0 2 * * 0-', /day of week "0-" is not a value or a range/],
    ['*/0 2 * * *', /minute "\*\/0" has a bad step/],
    ['0 5-2 * * *', /hour range "5-2" ends before it starts/],
    ['@fortnightly', /unknown shorthand "@fortnightly"/],
    ['CRON_TZ=Mars/Olympus 0 2 * * 0', /unknown time zone "Mars\/Olympus"/],
    ['', /it is empty/],
  ])('%s is refused with the field and an example', (cron, problem) => {
    expect(() => validateCron(cron)).toThrow(problem);
    expect(() => validateCron(cron)).toThrow(/for example "0 2 \* \* 0" \(Sundays at 02:00\)/);
  });
});
