import {
  alternate,
  mostAdvanced,
  nextTarget,
  ProbeCounter,
  ratio,
  reachablePosition,
  splitLost,
  summarizeOk,
} from '../../bench/floorPlan';

describe('direct-script floor: run order', () => {
  const names = ['db1', 'db2', 'db3'];

  it('switches the first two hosts back and forth, as the planned bench does', () => {
    expect(nextTarget(names, 'db1')).toBe('db2');
    expect(nextTarget(names, 'db2')).toBe('db1');
    expect(alternate(names, 'db1', 3)).toEqual([
      { from: 'db1', to: 'db2' },
      { from: 'db2', to: 'db1' },
      { from: 'db1', to: 'db2' },
    ]);
  });

  it('starts from wherever the project left the primary', () => {
    expect(alternate(names, 'db2', 2)).toEqual([
      { from: 'db2', to: 'db1' },
      { from: 'db1', to: 'db2' },
    ]);
    // A primary outside the pair (after an emergency) goes to the first host.
    expect(alternate(names, 'db3', 1)).toEqual([{ from: 'db3', to: 'db1' }]);
  });

  it('has no run for 0 and refuses a single host', () => {
    expect(alternate(names, 'db1', 0)).toEqual([]);
    expect(() => nextTarget(['db1'], 'db1')).toThrow(/two hosts/);
  });
});

describe('direct-script floor: ratios and summaries', () => {
  it('is project / floor with two decimals', () => {
    expect(ratio(62, 124)).toBe(0.5);
    expect(ratio(100, 30)).toBe(3.33);
  });

  it('is null without a figure on either side or against a floor of 0', () => {
    expect(ratio(NaN, 10)).toBeNull();
    expect(ratio(10, NaN)).toBeNull();
    expect(ratio(10, 0)).toBeNull();
  });

  it('summarizes the successful runs only', () => {
    const runs = [
      { ok: true, gap: 30 },
      { ok: false, gap: 5000 },
      { ok: true, gap: 50 },
      { ok: true, gap: 40 },
    ];
    expect(summarizeOk(runs, (r) => r.gap)).toEqual({ p50: 40, p95: 50, max: 50 });
    expect(summarizeOk([], () => 0).p50).toBeNaN();
  });

  it('gives the floor the writes lost during its runs only', () => {
    expect(splitLost([7], [7, 90, 91])).toEqual({ project: [7], floor: [90, 91] });
    expect(splitLost([], [])).toEqual({ project: [], floor: [] });
  });
});

describe('direct-script floor: most advanced replica', () => {
  it('picks the replica ahead of the others', () => {
    const chosen = mostAdvanced([
      { name: 'db2', current: '0-1-100', received: '0-1-100' },
      { name: 'db3', current: '0-1-120', received: '0-1-120' },
    ]);
    expect(chosen.name).toBe('db3');
  });

  it('counts what a replica received but has not applied yet', () => {
    // db2 applied less but its relay log holds the last writes (with semi-sync, it acknowledged them).
    const chosen = mostAdvanced([
      { name: 'db2', current: '0-1-100', received: '0-1-130' },
      { name: 'db3', current: '0-1-120', received: '0-1-120' },
    ]);
    expect(chosen.name).toBe('db2');
    expect(reachablePosition(chosen)).toEqual([{ domain: 0, serverId: 1, seq: 130 }]);
  });

  it('keeps the first of equals, and handles several domains and an empty received position', () => {
    expect(
      mostAdvanced([
        { name: 'db2', current: '0-1-100', received: '' },
        { name: 'db3', current: '0-1-100', received: '0-1-100' },
      ]).name,
    ).toBe('db2');
    expect(
      mostAdvanced([
        { name: 'db2', current: '0-1-100,1-2-5', received: '' },
        { name: 'db3', current: '0-1-100,1-2-9', received: '' },
      ]).name,
    ).toBe('db3');
  });

  it('falls back on the largest sum when the histories diverged', () => {
    expect(
      mostAdvanced([
        { name: 'db2', current: '0-1-100,1-2-5', received: '' },
        { name: 'db3', current: '0-1-90,1-2-9', received: '' },
      ]).name,
    ).toBe('db2');
  });

  it('refuses an empty list', () => {
    expect(() => mostAdvanced([])).toThrow(/no replica/);
  });
});

describe('direct-script floor: probe', () => {
  it('calls the host dead after three consecutive failures only', () => {
    const p = new ProbeCounter(3);
    expect([false, false, true, false, false].map((x) => p.record(x))).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(p.record(false)).toBe(true);
  });
});
