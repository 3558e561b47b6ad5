import {
  blocking,
  findingLines,
  preflightBlueGreen,
  soakProblems,
  targetVersionProblem,
} from '../../domain/upgrade/blueGreen';
import type { CompatFinding } from '../../domain/upgrade/facts';
import { cluster, replicaOf, topology } from './decisions.fixtures';

const empty = { readOnly: true, replication: null, gtidExecuted: '', gtidHistory: '' };

describe('preflightBlueGreen', () => {
  it('provisions an empty green host and names blue', () => {
    const r = preflightBlueGreen({
      cluster: cluster({}, 4),
      topology: topology({ db4: empty }, 4),
      green: 'db4',
    });
    expect(r).toEqual({ ok: true, blue: 'db1', green: 'provision' });
  });

  it('keeps a green that already replicates from blue, healthy', () => {
    const r = preflightBlueGreen({ cluster: cluster(), topology: topology(), green: 'db3' });
    expect(r).toEqual({ ok: true, blue: 'db1', green: 'replicating' });
  });

  it('refuses green = the primary', () => {
    const r = preflightBlueGreen({ cluster: cluster(), topology: topology(), green: 'db1' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.refusals[0]).toMatch(/db1 is the primary/);
  });

  it('refuses a host outside the inventory, naming the hosts', () => {
    const r = preflightBlueGreen({ cluster: cluster(), topology: topology(), green: 'db9' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.refusals[0]).toMatch(/not a host of r2d2.*db1, db2, db3/);
  });

  it('refuses an unreachable green', () => {
    const r = preflightBlueGreen({
      cluster: cluster(),
      topology: topology({ db3: { reachable: false, error: 'connect ECONNREFUSED' } }),
      green: 'db3',
    });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.refusals[0]).toMatch(/does not answer \(connect ECONNREFUSED\)/);
  });

  it('refuses a green whose replication is broken rather than provisioning over it', () => {
    const r = preflightBlueGreen({
      cluster: cluster(),
      topology: topology({
        db3: { replication: replicaOf('db1', { sqlRunning: false, sqlError: 'dup key' }) },
      }),
      green: 'db3',
    });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.refusals[0]).toMatch(/broken or foreign replica.*dup key/);
  });

  it('refuses when there is no single primary', () => {
    const r = preflightBlueGreen({
      cluster: cluster(),
      topology: topology({ db2: { readOnly: false } }),
      green: 'db3',
    });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.refusals[0]).toMatch(/2 writable nodes/);
  });

  it('provisions a read-only green with data but no replication (the child then needs wipe)', () => {
    const r = preflightBlueGreen({
      cluster: cluster(),
      topology: topology({ db3: { replication: null } }),
      green: 'db3',
    });
    expect(r).toEqual({ ok: true, blue: 'db1', green: 'provision' });
  });
});

describe('soakProblems', () => {
  it('is empty for a caught-up replica of blue', () => {
    expect(soakProblems(topology(), 'db1', 'db2', 5)).toEqual([]);
  });

  it('reports lag above the bound, and unknown lag', () => {
    expect(
      soakProblems(topology({ db2: { replication: replicaOf('db1', { lagSeconds: 9 }) } }), 'db1', 'db2', 5),
    ).toEqual(['db2 lags 9 s behind db1 (more than 5 s)']);
    expect(
      soakProblems(
        topology({ db2: { replication: replicaOf('db1', { lagSeconds: null }) } }),
        'db1',
        'db2',
        5,
      ),
    ).toEqual(["db2's lag is unknown"]);
  });

  it('reports a stopped thread, another source and an unreachable green', () => {
    expect(
      soakProblems(
        topology({ db2: { replication: replicaOf('db1', { sqlRunning: false }) } }),
        'db1',
        'db2',
        5,
      )[0],
    ).toMatch(/SQL thread is stopped/);
    expect(soakProblems(topology({ db2: { replication: replicaOf('db3') } }), 'db1', 'db2', 5)[0]).toMatch(
      /replicates from db3, not from db1/,
    );
    expect(soakProblems(topology({ db2: { reachable: false } }), 'db1', 'db2', 5)[0]).toMatch(
      /does not answer/,
    );
  });
});

describe('targetVersionProblem', () => {
  it('accepts no target, a matching series and an exact version', () => {
    expect(targetVersionProblem('10.11.19-MariaDB-0+deb12u1', undefined)).toBeUndefined();
    expect(targetVersionProblem('10.11.19-MariaDB-0+deb12u1', '10.11')).toBeUndefined();
    expect(targetVersionProblem('10.11.19-MariaDB-0+deb12u1', '10.11.19')).toBeUndefined();
    expect(targetVersionProblem('8.0.36', '8')).toBeUndefined();
  });

  it('refuses another version with the fix', () => {
    expect(targetVersionProblem('10.11.19-MariaDB', '11.4')).toMatch(
      /runs 10.11.19-MariaDB, not the target version 11.4: install 11.4/,
    );
    expect(targetVersionProblem('10.11.19-MariaDB', '10.11.18')).toMatch(/not the target version/);
    expect(targetVersionProblem(undefined, '11.4')).toMatch(/unknown/);
  });
});

describe('findings', () => {
  const f = (severity: CompatFinding['severity'], subject = 'x'): CompatFinding => ({
    check: 'removed-variable',
    severity,
    subject,
    message: 'm',
  });

  it('keeps only the blocking ones', () => {
    expect(
      blocking([f('info'), f('blocking', 'a'), f('warning'), f('blocking', 'b')]).map((x) => x.subject),
    ).toEqual(['a', 'b']);
  });

  it('formats one Markdown line per finding', () => {
    expect(findingLines([f('warning', 'query_cache_size')])).toBe(
      '- **warning** removed-variable `query_cache_size`: m',
    );
  });
});
