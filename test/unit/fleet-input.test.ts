// The pure parts of fleets: the input schema, names and templates, each child's input, how a
// child's end counts (refused or failed), a drain's facts from a topology, and the CLI's checks.
import {
  ApplicationFailure,
  ChildWorkflowFailure,
  RetryState,
  TerminatedFailure,
  WorkflowExecutionAlreadyStartedError,
} from '@temporalio/common';
import { fleetRequest, FleetArgsError, drainRequest } from '../../cli/commands/fleet';
import { drainFactsOf } from '../../domain/fleet/drainFacts';
import { clip, DETAIL_CHARS, fillTemplate, FleetInputSchema, fleetName } from '../../domain/fleet/input';
import { parseInput } from '../../domain/runbook';
import { plannedChildInput, upgradeChildInput, type ChildPlan } from '../../workflows/fleet/children';
import { failedOutcome } from '../../workflows/fleet/outcome';
import { cluster, replicaOf, topology } from './decisions.fixtures';

const parse = (raw: unknown) => parseInput(FleetInputSchema, 'fleet', raw);

describe('fleet input', () => {
  test('defaults: one at a time, stop at the first failure, a new run every 500 children', () => {
    expect(parse({ runbook: 'planned', selector: 'tier=gold' })).toMatchObject({
      concurrency: 1,
      maxFailures: 1,
      continueAsNewAfter: 500,
      dryRun: false,
      planned: { force: false, waitTimeoutSeconds: 10 },
    });
  });

  test('every problem at once, each with its field and the fix', () => {
    expect(() => parse({ runbook: 'planned', concurrency: 0, maxFailures: -1 })).toThrow(
      /--concurrency: expected a whole number of at least 1.*--max-failures: expected a whole number of at least 0.*give exactly one of selector or clusters/,
    );
    expect(() => parse({ runbook: 'planned', selector: ' ' })).toThrow(/selector: empty selector/);
    expect(() => parse({ runbook: 'upgrade', selector: 'all' })).toThrow(
      /upgrade: an upgrade fleet needs upgrade.greenHost/,
    );
    expect(() => parse({ runbook: 'upgrade', selector: 'all', upgrade: { greenHost: 'db 3' } })).toThrow(
      /greenHost: expected a host name, with \{cluster\} where the cluster name goes/,
    );
    expect(() => parse({ runbook: 'planned', selector: 'all', planned: { target: 'db2' } })).toThrow(
      /unknown field "target"/,
    );
  });

  test('templates: {cluster} is the cluster name', () => {
    expect(fillTemplate('{cluster}-green', 'eu1')).toBe('eu1-green');
    expect(fillTemplate('db3', 'eu1')).toBe('db3');
    expect(
      parse({ runbook: 'upgrade', selector: 'all', upgrade: { greenHost: '{cluster}-green' } }).upgrade,
    ).toMatchObject({
      greenHost: '{cluster}-green',
      soakSeconds: 3600,
    });
  });

  test('fleetName: a short plain selector is itself; anything else a readable head and a stable hash', () => {
    expect(fleetName('tier=gold,dc=eu')).toBe('tier=gold,dc=eu');
    expect(fleetName(' tier = gold ')).toBe('tier=gold');
    const long = Array.from({ length: 30 }, (_, i) => `cluster-${i}`).join(',');
    expect(fleetName(long)).toMatch(/^cluster-0,cluster-1,cluster-2,cluster-3,~[0-9a-f]{8}$/);
    expect(fleetName(long)).toBe(fleetName(long));
    expect(fleetName(long)).not.toBe(fleetName(`${long},x`));
    expect(fleetName('a/b')).toMatch(/^a_b~[0-9a-f]{8}$/);
  });
});

test('5,000 outcomes at their largest fit a payload (2 MB): the hand-over and the result', () => {
  const outcomes = Array.from({ length: 5000 }, (_, i) => ({
    cluster: `cluster-with-a-long-name-${String(i).padStart(5, '0')}`.padEnd(63, 'x'),
    status: 'refused',
    type: 'Refused',
    detail: clip('y'.repeat(1000)),
  }));
  expect(Buffer.byteLength(JSON.stringify({ queue: [], outcomes }))).toBeLessThan(1.5e6);
});

describe("each child's input", () => {
  const plan: ChildPlan = {
    runbook: 'planned',
    fleet: 'fleet/planned/all',
    dryRun: true,
    window: 'daily 02:00-04:00 UTC',
    planned: { force: false, waitTimeoutSeconds: 10, readOnlyTimeoutSeconds: 5, killIntervalMs: 100 },
    upgrade: { greenHost: '{cluster}-g', donor: 'db2', soakSeconds: 60 } as ChildPlan['upgrade'],
    avoidMachine: 'hv1',
  };

  test('planned: the template, the cluster, dry run, window, and a drain restriction', () => {
    expect(plannedChildInput(plan, { cluster: 'eu1', candidates: ['db2'] })).toEqual({
      cluster: 'eu1',
      force: false,
      waitTimeoutSeconds: 10,
      readOnlyTimeoutSeconds: 5,
      killIntervalMs: 100,
      dryRun: true,
      window: 'daily 02:00-04:00 UTC',
      candidates: ['db2'],
      avoidMachine: 'hv1',
    });
  });

  test('upgrade: the green host and donor templates filled per cluster', () => {
    expect(upgradeChildInput(plan, { cluster: 'eu1' })).toEqual({
      cluster: 'eu1',
      greenHost: 'eu1-g',
      donor: 'db2',
      soakSeconds: 60,
      window: 'daily 02:00-04:00 UTC',
    });
  });
});

describe("a child's end", () => {
  const child = (cause: Error) =>
    new ChildWorkflowFailure(
      'default',
      { workflowId: 'planned-successover/eu1', runId: 'r' },
      'plannedSuccessover',
      RetryState.NON_RETRYABLE_FAILURE,
      cause,
    );
  const app = (type: string, message = `${type} happened`) => ApplicationFailure.create({ type, message });

  test('refusals and pre-emptions changed nothing: refused, not failed', () => {
    expect(failedOutcome('eu1', child(app('Refused', 'db2 lags 30 s')))).toEqual({
      cluster: 'eu1',
      status: 'refused',
      type: 'Refused',
      detail: 'db2 lags 30 s',
    });
    expect(failedOutcome('eu1', child(app('Preempted'))).status).toBe('refused');
  });

  test('an id already running is a refusal: nothing was started', () => {
    const o = failedOutcome(
      'eu1',
      new WorkflowExecutionAlreadyStartedError('x', 'planned-successover/eu1', 'plannedSuccessover'),
    );
    expect(o).toMatchObject({ status: 'refused', type: 'Refused' });
    expect(o.detail).toMatch(/^planned-successover\/eu1 is already running/);
  });

  test('everything else fails, the unknown included; details stay short', () => {
    for (const type of ['Compensated', 'Unfinished', 'InvariantViolated', 'BadInput', 'WorkflowError'])
      expect(failedOutcome('eu1', child(app(type)))).toMatchObject({ status: 'failed', type });
    expect(failedOutcome('eu1', child(new TerminatedFailure('terminated by ops')))).toMatchObject({
      status: 'failed',
      type: 'Terminated',
    });
    expect(failedOutcome('eu1', new Error('?'))).toEqual({ cluster: 'eu1', status: 'failed', detail: '?' });
    const long = failedOutcome('eu1', child(app('Unfinished', 'x'.repeat(5000))));
    expect(long.detail).toHaveLength(DETAIL_CHARS);
  });
});

describe('drainFactsOf', () => {
  test('the primary and the replicas fit to take over: replicating from it, not lagging, holding data', () => {
    const t = topology(
      {
        db2: { replication: replicaOf('db1', { lagSeconds: 60 }) },
        db4: { replication: replicaOf('db1', { sqlRunning: false }) },
        db5: { readOnly: true, replication: null, gtidExecuted: '', gtidHistory: '' },
      },
      5,
    );
    expect(drainFactsOf(cluster({}, 5), t.nodes)).toEqual({
      cluster: 'r2d2',
      primary: 'db1',
      healthyReplicas: ['db3'],
    });
  });

  test("a pair's standby is a healthy replica; two writers name no primary", () => {
    const pair = topology({ db1: { replication: replicaOf('db2') } }, 2);
    expect(drainFactsOf(cluster({}, 2), pair.nodes).healthyReplicas).toEqual(['db2']);
    const split = topology({ db2: { readOnly: false, replication: null } });
    expect(drainFactsOf(cluster(), split.nodes)).toEqual({ cluster: 'r2d2', healthyReplicas: [] });
  });
});

describe('the command line', () => {
  const base = { concurrency: '1', maxFailures: '1', wait: true, taskQueue: 'q', clusters: 'tier=gold' };

  test('the id: the selector, or --id', () => {
    expect(fleetRequest('planned', base).workflowId).toBe('fleet/planned/tier=gold');
    expect(fleetRequest('upgrade', { ...base, green: 'db3', id: 'nightly' }).workflowId).toBe(
      'fleet/upgrade/nightly',
    );
    expect(drainRequest('hv1', base).workflowId).toBe('drain-host/hv1');
  });

  test('bad input: every problem at once, before anything starts', () => {
    expect(() =>
      fleetRequest('planned', { ...base, clusters: '', concurrency: '0', maxFailures: '-1' }),
    ).toThrow(
      new FleetArgsError(
        [
          '--concurrency: expected a whole number of at least 1 (how many clusters run at once), got 0: give e.g. --concurrency 1 to run one cluster at a time',
          '--max-failures: expected a whole number of at least 0 (failed clusters after which no new one starts), got -1: give e.g. --max-failures 1 to stop at the first failure',
          '--clusters: empty selector: give one, e.g. all, tier=gold,dc=eu or name=db-eu-*',
        ].join('; '),
      ),
    );
    expect(() => fleetRequest('planned', { ...base, concurrency: '' })).toThrow(/got NaN/);
    expect(() => fleetRequest('upgrade', base)).toThrow(/--green: an upgrade fleet needs the green host/);
    expect(() => fleetRequest('rollback', base)).toThrow(
      /unknown runbook "rollback": a fleet runs planned or upgrade/,
    );
    expect(() => drainRequest('hv1', { ...base, maxFailures: '1.5' })).toThrow(/--max-failures/);
  });
});
