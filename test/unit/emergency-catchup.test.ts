import { planCatchUp, type EmergencyNode } from '../../domain/emergency';
import { gtidOps } from '../../domain/gtid';
import { replicaOf } from './decisions.fixtures';

const U1 = '3e11fa47-71ca-11e1-9e33-c80aa9429562'; // db1, the dead primary
const U4 = '6d0e2a33-8f3c-11ee-c4d5-0242ac120005'; // db4's own
const node = (name: string, executed: string, received?: string): EmergencyNode => ({
  name,
  reachable: true,
  readOnly: true,
  replication: replicaOf('db1', { ioRunning: 'connecting', ioError: "Can't connect", lagSeconds: null }),
  gtidExecuted: executed,
  gtidHistory: executed,
  ...(received !== undefined ? { relay: { received, sourceServerId: 1 } } : {}),
});
const mysql = gtidOps('mysql');
const plan = (
  candidate: EmergencyNode,
  others: EmergencyNode[] = [],
  relayLogWaitSeconds = 600,
  errant?: string[],
) => planCatchUp({ gtid: mysql, candidate, others, relayLogWaitSeconds, ...(errant ? { errant } : {}) });

describe('catch-up plan: the relay log', () => {
  test('the candidate first applies what its relay log received, bounded by relayLogWaitSeconds', () => {
    const p = plan(node('db2', `${U1}:1-100`, `${U1}:90-105`));
    expect(p.steps).toEqual([
      {
        kind: 'apply-relay-log',
        host: 'db2',
        position: `${U1}:90-105`,
        timeoutSeconds: 600,
        detail: `let db2 apply 5 transactions from its relay log (${U1}:101-105), waiting at most 600 s`,
      },
    ]);
    expect(p.expected).toBe(`${U1}:1-105`);
    expect(p).toMatchObject({ notUsed: [], warnings: [] });
  });

  test('-1 waits forever', () => {
    const step = plan(node('db2', `${U1}:1-100`, `${U1}:1-105`), [], -1).steps[0];
    expect(step).toMatchObject({ kind: 'apply-relay-log', timeoutSeconds: null });
    expect(step.detail).toMatch(/waiting as long as it takes$/);
  });

  test('0 does not wait, and says what is discarded', () => {
    const p = plan(node('db2', `${U1}:1-100`, `${U1}:1-105`), [], 0);
    expect(p.steps).toEqual([]);
    expect(p.expected).toBe(`${U1}:1-100`);
    expect(p.warnings).toEqual([
      `relayLogWaitSeconds is 0: 5 transactions that db2 received but has not applied (${U1}:101-105) are discarded when it is promoted`,
    ]);
  });

  test('nothing unapplied: no step; received position unknown: a warning', () => {
    expect(plan(node('db2', `${U1}:1-105`, `${U1}:1-105`)).steps).toEqual([]);
    expect(plan(node('db2', `${U1}:1-105`)).warnings).toEqual([
      "db2's received position is unknown: its relay log is not waited for",
    ]);
  });

  test('a candidate without a GTID position cannot be planned', () => {
    const c = { ...node('db2', ''), gtidExecuted: undefined };
    expect(() => plan(c)).toThrow('cannot plan the catch-up of db2: its GTID position is unknown');
  });
});

describe('catch-up plan: taking what other replicas have', () => {
  test('a replica ahead of even the applied relay log: replicate from it until its position', () => {
    const p = plan(node('db2', `${U1}:1-100`, `${U1}:1-105`), [node('db3', `${U1}:1-108`, `${U1}:1-108`)]);
    expect(p.steps[1]).toEqual({
      kind: 'replicate-from',
      host: 'db2',
      source: 'db3',
      until: `${U1}:1-108`,
      detail: `replicate db2 from db3 until it has db3's position: 3 transactions it lacks (${U1}:106-108)`,
    });
    expect(p.expected).toBe(`${U1}:1-108`);
  });

  test('a replica the relay log already covers is not used', () => {
    const p = plan(node('db2', `${U1}:1-100`, `${U1}:1-105`), [node('db3', `${U1}:1-103`)]);
    expect(p.steps.map((s) => s.kind)).toEqual(['apply-relay-log']);
  });

  test('only the most advanced of several is used', () => {
    const p = plan(node('db2', `${U1}:1-100`), [node('db3', `${U1}:1-108`), node('db4', `${U1}:1-110`)]);
    expect(p.steps.map((s) => s.kind === 'replicate-from' && s.source)).toEqual(['db4']);
    expect(p.expected).toBe(`${U1}:1-110`);
  });

  test('with relayLogWaitSeconds 0, a replica ahead of the applied position is used', () => {
    const p = plan(node('db2', `${U1}:1-100`, `${U1}:1-105`), [node('db3', `${U1}:1-103`)], 0);
    expect(p.steps).toMatchObject([{ kind: 'replicate-from', source: 'db3', until: `${U1}:1-103` }]);
  });

  test('diverged replicas, errant holders and unreachable ones are reported, not used', () => {
    const gone: EmergencyNode = { ...node('db5', `${U1}:1-200`), reachable: false, error: 'timeout' };
    const p = plan(
      node('db2', `${U1}:1-100`),
      [
        node('db3', `${U1}:1-110`),
        node('db4', `${U1}:1-109,${U4}:1`),
        node('db6', `${U1}:1-99,${U4}:1-3`),
        gone,
      ],
      600,
      ['db3', 'db4'],
    );
    expect(p.steps).toEqual([]);
    expect(p.notUsed).toEqual([
      { name: 'db5', reason: 'unreachable (timeout): what it holds is unknown' },
      { name: 'db3', reason: 'has errant transactions: replicating from it would copy them' },
      { name: 'db4', reason: 'has errant transactions: replicating from it would copy them' },
      { name: 'db6', reason: 'diverged from db2: each has transactions the other lacks' },
    ]);
  });

  test('two sources ahead of the candidate but diverged from each other: the first in rank is used, the other reported', () => {
    const U2 = '4a2b7e10-8f3c-11ee-a1b2-0242ac120003';
    const p = plan(node('db2', `${U1}:1-100`), [
      node('db3', `${U1}:1-103,${U2}:5`),
      node('db4', `${U1}:1-105`),
    ]);
    expect(p.steps).toMatchObject([{ kind: 'replicate-from', source: 'db4' }]);
    expect(p.notUsed).toEqual([
      { name: 'db3', reason: 'diverged from the position db2 reaches through the replicas used before it' },
    ]);
  });

  test('a source counts with what it received: it applies its relay log before it serves the candidate', () => {
    // Semi-sync acknowledges a write once it is in one replica's relay log: a plan on applied
    // positions alone promoted db2 without it (the fresh-clone emergency.test.ts failure).
    const p = plan(node('db2', `${U1}:1-100`, `${U1}:1-100`), [node('db3', `${U1}:1-104`, `${U1}:1-107`)]);
    expect(p.steps).toEqual([
      {
        kind: 'replicate-from',
        host: 'db2',
        source: 'db3',
        until: `${U1}:1-107`,
        detail: `replicate db2 from db3 until it has db3's position: 7 transactions it lacks (${U1}:101-107); db3 first applies what its relay log holds (${U1}:105-107)`,
      },
    ]);
    expect(p.lacking).toEqual([]);
  });

  test('what no usable source can bring is listed as lacking; errant holders are not', () => {
    const p = plan(
      node('db2', `${U1}:1-100`),
      [node('db3', `${U1}:1-101,${U4}:1`), node('db4', `${U1}:1-99`)],
      600,
      ['db3'],
    );
    expect(p.lacking).toEqual([]);
    const q = plan(node('db2', `${U1}:1-100,${U4}:1`), [node('db3', `${U1}:1-101`)]);
    expect(q.notUsed).toEqual([
      { name: 'db3', reason: 'diverged from db2: each has transactions the other lacks' },
    ]);
    expect(q.lacking).toEqual([{ name: 'db3', gtids: `${U1}:101` }]);
  });

  test("the candidate's own errant transactions (kept by errantGtids: ignore) do not hide a source ahead", () => {
    const p = planCatchUp({
      gtid: mysql,
      candidate: node('db2', `${U1}:1-100,${U4}:1`),
      others: [node('db3', `${U1}:1-101`)],
      relayLogWaitSeconds: 600,
      errant: ['db2'],
      errantGtids: { db2: `${U4}:1` },
    });
    expect(p.steps).toMatchObject([{ kind: 'replicate-from', source: 'db3', until: `${U1}:1-101` }]);
    expect(p.lacking).toEqual([]);
  });
});

describe('catch-up plan, MariaDB positions', () => {
  const maria = (candidate: EmergencyNode, others: EmergencyNode[], wait = 30) =>
    planCatchUp({ gtid: gtidOps('mariadb'), candidate, others, relayLogWaitSeconds: wait });

  test('relay log to Gtid_IO_Pos, then the most advanced replica', () => {
    const p = maria(node('db2', '0-1-100', '0-1-105'), [node('db3', '0-1-108'), node('db4', '0-1-102')]);
    expect(p.steps).toEqual([
      {
        kind: 'apply-relay-log',
        host: 'db2',
        position: '0-1-105',
        timeoutSeconds: 30,
        detail: 'let db2 apply the transactions from its relay log (0-1-105), waiting at most 30 s',
      },
      {
        kind: 'replicate-from',
        host: 'db2',
        source: 'db3',
        until: '0-1-108',
        detail: "replicate db2 from db3 until it has db3's position: the transactions it lacks (0-1-108)",
      },
    ]);
    expect(p.expected).toBe('0-1-108');
  });

  test('several domains: the relay log position merges domain by domain', () => {
    const p = maria(node('db2', '0-1-100,1-1-20', '0-1-104'), [node('db3', '0-1-104,1-1-20')]);
    expect(p.expected).toBe('0-1-104,1-1-20');
    expect(p.steps.map((s) => s.kind)).toEqual(['apply-relay-log']);
  });

  test('a local write on the candidate (another domain) is not in its slave position: db3 ahead is used', () => {
    // The emergency suite's errant case: db2 has 9-2-1 written locally and lacked 0-1-283 that db3
    // had; comparing gtid_current_pos called db3 diverged and db2 was promoted behind it.
    const db2: EmergencyNode = {
      ...node('db2', '0-1-282,9-2-1', '0-1-282'),
      relay: { received: '0-1-282', sourceServerId: 1, applied: '0-1-282' },
    };
    const p = maria(db2, [node('db3', '0-1-283', '0-1-283')]);
    expect(p.steps).toMatchObject([{ kind: 'replicate-from', source: 'db3', until: '0-1-283' }]);
    expect(p.lacking).toEqual([]);
  });

  test('the same seq_no from another server is a split history: not used', () => {
    const p = maria(node('db2', '0-1-105'), [node('db4', '0-4-105')]);
    expect(p.steps).toEqual([]);
    expect(p.notUsed).toEqual([
      { name: 'db4', reason: 'diverged from db2: each has transactions the other lacks' },
    ]);
  });
});
