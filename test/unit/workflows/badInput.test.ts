// Every runbook validates its input before anything else: a bad input fails the run at once with
// BadInput, and the message names the field. No activity runs.
import {
  blueGreenUpgrade,
  emergencyRecovery,
  plannedSuccessover,
  provisionReplica,
} from '../../../workflows';
import { failureOf, withWorker } from './env';
import { FakeCluster } from './fakeCluster';

const cases = [
  {
    runbook: 'plannedSuccessover',
    wf: plannedSuccessover,
    input: (cluster: string) => ({ cluster, target: 'db2', waitTimeoutSeconds: -1 }),
    field: /invalid planned-successover input: waitTimeoutSeconds: /,
  },
  {
    runbook: 'emergencyRecovery',
    wf: emergencyRecovery,
    input: (cluster: string) => ({ cluster, probeIntervalMs: 5 }),
    field: /invalid emergency-recovery input: probeIntervalMs: /,
  },
  {
    runbook: 'provisionReplica',
    wf: provisionReplica,
    input: (cluster: string) => ({ cluster, host: 'db4', verify: 'maybe' }),
    field: /invalid provision-replica input: verify: /,
  },
  {
    runbook: 'blueGreenUpgrade',
    wf: blueGreenUpgrade,
    input: (cluster: string) => ({ cluster, greenHost: 'db3', targetVersion: 'eleven' }),
    field: /invalid blue-green-upgrade input: targetVersion: expected a version like 11\.4/,
  },
  {
    runbook: 'plannedSuccessover (unknown field)',
    wf: plannedSuccessover,
    input: (cluster: string) => ({ cluster, taget: 'db2' }),
    field: /invalid planned-successover input: unknown field "taget"/,
  },
] as const;

describe('bad input', () => {
  test.concurrent.each(cases)(
    '$runbook: BadInput naming the field, nothing run',
    async ({ wf, input, field }) => {
      const fake = new FakeCluster();
      await withWorker(fake, async (ctx) => {
        const handle = await ctx.client.workflow.start(wf as (i: unknown) => Promise<unknown>, {
          workflowId: `bad-input-${fake.name}`,
          taskQueue: ctx.taskQueue,
          args: [input(fake.name)],
        });
        const f = await failureOf(handle);
        expect(f.type).toBe('BadInput');
        expect(f.message).toMatch(field);
        expect(fake.calls).toEqual([]);
      });
    },
  );
});
