import { confirmFailure, inferDeadPrimary, type PrimaryProbe } from '../../domain/emergency';
import { cluster, replicaOf, topology } from './decisions.fixtures';

const DOWN = {
  reachable: false,
  readOnly: undefined,
  error: 'db1 discover: connect ECONNREFUSED 10.0.0.11:3306',
};
const REFUSED =
  "error reconnecting to master 'repl@10.0.0.11:3306' - retry-time: 1  maximum-retries: 100000  message: Can't connect to MySQL server on '10.0.0.11' (111 \"Connection refused\")";
const MYSQL_REFUSED =
  "Error connecting to source 'repl@10.0.0.11:3306'. This was attempt 3/86400, with a delay of 1 seconds between attempts. Message: Can't connect to MySQL server on '10.0.0.11:3306' (111)";
const cut = (more = {}) =>
  replicaOf('db1', { ioRunning: 'connecting', ioError: REFUSED, lagSeconds: null, ...more });
const failed = (n = 3, step = 2000): PrimaryProbe[] =>
  Array.from({ length: n }, (_, i) => ({
    ok: false,
    error: 'connect ETIMEDOUT 10.0.0.11:3306',
    at: Date.UTC(2026, 10, 23, 12, 0, 0) + i * step,
  }));
const dead = (patch = {}) =>
  topology({ db1: DOWN, db2: { replication: cut() }, db3: { replication: cut() }, ...patch }).nodes;
const confirm = (nodes = dead(), probes = failed(), more = {}) =>
  confirmFailure({ cluster: cluster(), nodes, primary: 'db1', probes, ...more });

describe('inferring the dead primary from the replicas', () => {
  test('the replicas all point at db1', () => {
    expect(inferDeadPrimary(dead())).toEqual({ found: true, primary: 'db1', followers: ['db2', 'db3'] });
  });

  test('an intermediate replica is followed up to the top of the chain', () => {
    const nodes = topology({
      db1: DOWN,
      db2: { replication: cut() },
      db3: { replication: replicaOf('db2') },
    }).nodes;
    expect(inferDeadPrimary(nodes)).toEqual({ found: true, primary: 'db1', followers: ['db2', 'db3'] });
  });

  test('an unreachable intermediate is where the chain stops: ambiguous, reported', () => {
    const nodes = topology(
      {
        db1: DOWN,
        db2: { ...DOWN, error: 'timeout' },
        db3: { replication: replicaOf('db2') },
        db4: { replication: cut() },
      },
      4,
    ).nodes;
    const r = inferDeadPrimary(nodes);
    expect(r.found).toBe(false);
    if (r.found) return;
    expect(r.roots).toEqual([
      { source: 'db1', followers: ['db4'] },
      { source: 'db2', followers: ['db3'] },
    ]);
    expect(r.reason).toBe(
      'the replicas do not agree on the primary: db4 replicates from db1; db3 replicates from db2: name the primary explicitly',
    );
  });

  test('a source outside the inventory shows by address', () => {
    const nodes = topology({
      db1: DOWN,
      db2: { replication: replicaOf('10.9.9.9:3306') },
      db3: { replication: cut() },
    }).nodes;
    const r = inferDeadPrimary(nodes);
    expect(r.found || r.roots.map((x) => x.source)).toEqual(['10.9.9.9:3306', 'db1']);
  });

  test('no reachable replica: nothing to infer from', () => {
    const nodes = topology({ db1: DOWN, db2: DOWN, db3: { replication: null } }).nodes;
    expect(inferDeadPrimary(nodes)).toEqual({
      found: false,
      reason: 'no reachable replica: nothing tells which node was the primary',
      roots: [],
    });
  });
});

describe('confirming the failure holistically', () => {
  test('every probe failed and every replica cannot reach db1: confirmed, with the evidence', () => {
    const r = confirm();
    expect(r.verdict).toBe('confirmed');
    expect(r.evidence.map((e) => [e.from, e.says])).toEqual([
      ['worker', 'down'],
      ['worker', 'down'],
      ['worker', 'down'],
      ['db2', 'down'],
      ['db3', 'down'],
    ]);
    expect(r.evidence[0].detail).toBe(
      'probe 1 of 3 at 2026-11-23T12:00:00.000Z: connect ETIMEDOUT 10.0.0.11:3306',
    );
    expect(r.evidence[3].detail).toBe(`db2 cannot reach db1 either (IO thread reconnecting: ${REFUSED})`);
  });

  test("MySQL's wording and a stopped IO thread with an error confirm too", () => {
    const nodes = dead({ db3: { replication: cut({ ioRunning: 'no', ioError: MYSQL_REFUSED }) } });
    const r = confirm(nodes);
    expect(r.verdict).toBe('confirmed');
    expect(r.evidence[4].detail).toMatch(
      /^db3 cannot reach db1 either \(IO thread stopped: Error connecting/,
    );
  });

  test('the primary answered one probe: false alarm naming it', () => {
    const probes = failed();
    probes[1] = { ok: true, at: '2026-11-23T12:00:02.000Z' };
    const r = confirm(dead(), probes);
    expect(r).toMatchObject({
      verdict: 'false-alarm',
      reason: 'db1 answered probe 2 (at 2026-11-23T12:00:02.000Z)',
    });
    expect(r.evidence[1]).toEqual({
      from: 'worker',
      says: 'up',
      detail: 'probe 2 of 3 at 2026-11-23T12:00:02.000Z: db1 answered',
    });
  });

  test('the primary answered discovery: false alarm', () => {
    const nodes = dead({ db1: { reachable: true, readOnly: false } });
    expect(confirm(nodes)).toMatchObject({
      verdict: 'false-alarm',
      reason: 'db1 answered discovery: it is reachable',
    });
  });

  test('replicas still streaming: false alarm, named', () => {
    const nodes = dead({ db2: { replication: replicaOf('db1') }, db3: { replication: replicaOf('db1') } });
    expect(confirm(nodes)).toMatchObject({
      verdict: 'false-alarm',
      reason: 'db2 and db3 still stream from db1 (IO thread running, no IO error)',
    });
  });

  test('one replica streaming is enough to refuse: a partition between the worker and db1', () => {
    const nodes = dead({ db3: { replication: replicaOf('db1') } });
    const r = confirm(nodes);
    expect(r).toMatchObject({
      verdict: 'false-alarm',
      reason: 'db3 still streams from db1 (IO thread running, no IO error)',
    });
    expect(r.evidence.find((e) => e.from === 'db2')?.says).toBe('down');
  });

  test('an IO error the primary answered with (access denied, 1236) is a live primary: false alarm', () => {
    const denied =
      "error connecting to master 'repl@10.0.0.11:3306' - retry-time: 1 message: Access denied for user 'repl'@'10.0.0.12'";
    const r = confirm(dead({ db2: { replication: cut({ ioError: denied }) } }));
    expect(r).toMatchObject({
      verdict: 'false-alarm',
      reason: `db2's IO thread got an answer from db1: ${denied}`,
    });
    const purged =
      "Got fatal error 1236 from master when reading data from binary log: 'Could not find GTID state requested by slave in any binlog files'";
    expect(confirm(dead({ db3: { replication: cut({ ioRunning: 'no', ioError: purged }) } })).verdict).toBe(
      'false-alarm',
    );
  });

  test('an IO thread connecting without an error yet: undecidable, ask again', () => {
    const r = confirm(dead({ db3: { replication: cut({ ioError: '' }) } }));
    expect(r).toMatchObject({
      verdict: 'undecidable',
      reason: "db3's IO thread is connecting without an error yet: ask again",
    });
  });

  test('an IO thread stopped by hand says nothing: undecidable', () => {
    const r = confirm(dead({ db3: { replication: cut({ ioRunning: 'no', ioError: '' }) } }));
    expect(r.verdict).toBe('undecidable');
    if (r.verdict === 'undecidable') expect(r.reason).toMatch(/^db3's IO thread is stopped without an error/);
  });

  test('no reachable replica to ask: undecidable, the unreachable ones are in the evidence', () => {
    const r = confirm(dead({ db2: { ...DOWN, error: 'timeout' }, db3: { ...DOWN, error: 'timeout' } }));
    expect(r).toMatchObject({
      verdict: 'undecidable',
      reason:
        'no reachable replica of db1 to ask: the worker alone cannot tell a dead primary from a partition',
    });
    expect(r.evidence.slice(3)).toEqual([
      { from: 'db2', says: 'unknown', detail: 'db2 is unreachable too: timeout' },
      { from: 'db3', says: 'unknown', detail: 'db3 is unreachable too: timeout' },
    ]);
  });

  test('a reachable node replicating from elsewhere is no witness', () => {
    const nodes = dead({
      db2: { replication: replicaOf('db3') },
      db3: { replication: null, readOnly: true },
    });
    expect(confirm(nodes).verdict).toBe('undecidable');
  });

  test('an unreachable replica does not block confirmation by the reachable ones', () => {
    const r = confirm(dead({ db3: { ...DOWN, error: 'timeout' } }));
    expect(r.verdict).toBe('confirmed');
    expect(r.evidence.map((e) => `${e.from}:${e.says}`).slice(3)).toEqual(['db3:unknown', 'db2:down']);
  });

  test('fewer probes than the policy asks (detector.probes, default 3), or none: undecidable', () => {
    expect(confirm(dead(), failed(2))).toMatchObject({
      verdict: 'undecidable',
      reason: 'only 2 probe(s) of db1 failed; 3 are required',
    });
    expect(confirm(dead(), failed(2), { minProbes: 2 }).verdict).toBe('confirmed');
    expect(confirm(dead(), [], { minProbes: 0 })).toMatchObject({
      verdict: 'undecidable',
      reason: 'db1 was not probed',
    });
  });

  test('probes too close together: undecidable; spread out enough: confirmed', () => {
    expect(confirm(dead(), failed(3, 500), { minSpanSeconds: 4 })).toMatchObject({
      verdict: 'undecidable',
      reason: 'the failed probes span 1 s, less than the required 4 s: probe longer',
    });
    expect(confirm(dead(), failed(3, 2000), { minSpanSeconds: 4 }).verdict).toBe('confirmed');
  });
});
