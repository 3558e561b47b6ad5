import { whomToPromote, type EmergencyNode, type Lacking } from '../../domain/emergency';
import { gtidOps } from '../../domain/gtid';
import type { Ranking } from '../../domain/ranking';
import { replicaOf } from './decisions.fixtures';

const U1 = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
const U4 = '6d0e2a33-8f3c-11ee-c4d5-0242ac120005';
const node = (name: string, executed: string, received = executed): EmergencyNode => ({
  name,
  reachable: true,
  readOnly: true,
  replication: replicaOf('db1', { ioRunning: 'connecting', ioError: "Can't connect", lagSeconds: null }),
  gtidExecuted: executed,
  gtidHistory: executed,
  relay: { received, sourceServerId: 1 },
});
const ranking = (...eligible: string[]): Ranking => ({
  candidates: [
    ...eligible.map((name) => ({
      name,
      eligible: true,
      rule: 'neutral' as const,
      lagSeconds: 0,
      reasons: [],
    })),
    {
      name: 'db9',
      eligible: false,
      rule: 'must_not' as const,
      lagSeconds: 0,
      reasons: ['promotion rule must_not'],
    },
  ],
  best: eligible[0],
});
const decide = (
  replicas: EmergencyNode[],
  lacking: Lacking[],
  opts: { eligible?: string[]; policy?: 'most-advanced' | 'promote-anyway'; errant?: string[] } = {},
) =>
  whomToPromote({
    gtid: gtidOps('mysql'),
    ranking: ranking(...(opts.eligible ?? replicas.map((r) => r.name))),
    candidate: 'db2',
    replicas,
    lacking,
    policy: opts.policy ?? 'most-advanced',
    why: 'its catch-up ran out of time',
    errant: opts.errant ?? [],
  });

describe('whom to promote when the candidate cannot be brought level', () => {
  const behind = node('db2', `${U1}:1-100`);
  const ahead = node('db3', `${U1}:1-100`, `${U1}:1-104`);
  const lacking = [{ name: 'db3', gtids: `${U1}:101-104` }];

  test('nothing lacking: the candidate', () => {
    expect(decide([behind, ahead], [])).toEqual({ ok: true, candidate: 'db2', warnings: [] });
  });

  test('the most advanced allowed replica (counting what it received) replaces it, and says why', () => {
    const r = decide([behind, ahead], lacking);
    expect(r).toMatchObject({ ok: true, candidate: 'db3' });
    expect(r.ok && r.warnings[0]).toMatch(
      /^db2 would lack transactions \(db3 has .*:101-104\) because its catch-up ran out of time: db3, the most advanced replica the promotion rules allow, is promoted instead$/,
    );
  });

  test('the most advanced one not allowed: refused with the GTIDs, unless promote-anyway', () => {
    const r = decide([behind, ahead], lacking, { eligible: ['db2'] });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/db2 lacks transactions other replicas have \(db3 has .*:101-104\)/);
    expect(!r.ok && r.reason).toMatch(/catchUp: promote-anyway/);
    const anyway = decide([behind, ahead], lacking, { eligible: ['db2'], policy: 'promote-anyway' });
    expect(anyway).toMatchObject({ ok: true, candidate: 'db2' });
    expect(anyway.ok && anyway.warnings[0]).toMatch(/promote-anyway.*db3 has .*:101-104/);
  });

  test('two diverged replicas: no one holds everything', () => {
    const other = node('db4', `${U1}:1-100,${U4}:1`);
    expect(decide([behind, ahead, other], lacking).ok).toBe(false);
    // An errant holder's own writes are not a reason to refuse.
    expect(decide([behind, ahead, other], lacking, { errant: ['db4'] })).toMatchObject({
      ok: true,
      candidate: 'db3',
    });
  });

  test('an unreachable replica does not block: what it holds is unknown', () => {
    const gone = { ...node('db4', `${U1}:1-200`), reachable: false };
    expect(decide([behind, ahead, gone], lacking)).toMatchObject({ ok: true, candidate: 'db3' });
  });
});
