import {
  catchUpState,
  chooseChecksumReference,
  describeMismatches,
  preexistingProblems,
  type CatchUpProgress,
} from '../../domain/provision';
import { replicaOf } from './decisions.fixtures';
import { fourHosts, withEmptyDb4 } from './provision.fixtures';

const p = (more: Partial<CatchUpProgress> = {}): CatchUpProgress => ({
  ioRunning: 'yes',
  sqlRunning: true,
  lastError: null,
  lagSeconds: 0,
  gtidDistance: 0,
  ...more,
});
const state = (more: Partial<CatchUpProgress>, maxLagSeconds = 1) =>
  catchUpState(p(more), { host: 'db4', primary: 'db1', maxLagSeconds });

describe('catchUpState', () => {
  test('caught up: both threads running, lag at most the bound (or nothing left)', () => {
    expect(state({ lagSeconds: 1, gtidDistance: 40 })).toMatchObject({ state: 'caught-up' });
    expect(state({ lagSeconds: 2, gtidDistance: 40 })).toEqual({
      state: 'waiting',
      detail: 'lag 2 s, 40 transactions behind db1 (IO yes, SQL running)',
    });
    expect(state({ lagSeconds: null, gtidDistance: 0 })).toMatchObject({ state: 'caught-up' });
    expect(state({ lagSeconds: 1, gtidDistance: 3 }, 0)).toMatchObject({ state: 'waiting' });
  });

  test('an IO thread still connecting is waited for, with its error shown', () => {
    expect(
      state({
        ioRunning: 'connecting',
        lastError: 'error connecting to master',
        lagSeconds: null,
        gtidDistance: 7,
      }),
    ).toEqual({
      state: 'waiting',
      detail:
        'lag unknown, 7 transactions behind db1 (IO connecting, SQL running); last error: error connecting to master',
    });
  });

  test('failures that waiting cannot fix fail at once, with the way on', () => {
    expect(state({ sqlRunning: false, lastError: "Duplicate entry '7' for key 'PRIMARY'" })).toEqual({
      state: 'failed',
      reason:
        "db4's SQL thread failed: Duplicate entry '7' for key 'PRIMARY' (lag 0 s, has every transaction of db1 (IO yes, SQL stopped); last error: Duplicate entry '7' for key 'PRIMARY'): the copy does not match the primary's history; run provision-replica again with wipe: true",
    });
    expect(state({ ioRunning: 'no', lastError: 'Got fatal error 1236' })).toMatchObject({
      state: 'failed',
      reason: expect.stringMatching(
        /^db4's IO thread is stopped: Got fatal error 1236 .*check that db1 still has the binary logs/,
      ),
    });
    expect(state({ ioRunning: null, sqlRunning: null })).toMatchObject({
      state: 'failed',
      reason: expect.stringMatching(/^db4 has no replication configured any more/),
    });
  });
});

describe('chooseChecksumReference', () => {
  const choose = (patch: Parameters<typeof withEmptyDb4>[0], donor = 'db2') =>
    chooseChecksumReference({
      cluster: fourHosts(),
      topology: withEmptyDb4({ db4: { replication: replicaOf('db1'), gtidExecuted: '0-1-100' }, ...patch }),
      primary: 'db1',
      target: 'db4',
      donor,
    });

  test('the donor when it is a healthy replica', () => {
    expect(choose({ db3: { replication: replicaOf('db1', { lagSeconds: 0 }) } }, 'db3')).toBe('db3');
  });

  test('else the healthy replica lagging least; never the primary or the target', () => {
    expect(choose({ db2: { reachable: false } })).toBe('db3');
    expect(choose({}, 'db1')).toBe('db2');
    expect(choose({ db2: { replication: replicaOf('db1', { lagSeconds: 9 }) } }, 'db1')).toBe('db3');
  });

  test('none: null (the comparison is skipped with a warning)', () => {
    expect(
      choose({ db2: { reachable: false }, db3: { replication: replicaOf('db1', { sqlRunning: false }) } }),
    ).toBeNull();
  });
});

test('describeMismatches names each differing table and how', () => {
  expect(
    describeMismatches(
      [
        { name: 'app.a', reference: '1', host: '1', equal: true, rows: 3 },
        { name: 'app.b', reference: '11', host: '12', equal: false, rows: 4 },
        { name: 'app.c', reference: '5', host: null, equal: false, rows: 0 },
        { name: 'app.d', reference: null, host: '5', equal: false, rows: 1 },
      ],
      'db2',
      'db4',
    ),
  ).toBe(
    'app.b (checksum 11 on db2, 12 on db4, 4 rows on db4); app.c (missing or unreadable on db4); app.d (missing or unreadable on db2)',
  );
});

test('preexistingProblems: unhealthy nodes other than the primary and the target; unprovisioned ones are fine', () => {
  const t = withEmptyDb4({
    db2: { reachable: false, error: 'timeout' },
    db3: { replication: replicaOf('db1', { sqlRunning: false }) },
  });
  expect(preexistingProblems(t, 'db1', 'db9')).toEqual([
    { name: 'db2', problem: 'unreachable (timeout)' },
    { name: 'db3', problem: "db3's SQL thread is stopped" },
  ]);
  expect(preexistingProblems(withEmptyDb4(), 'db1', 'db4')).toEqual([]);
});
