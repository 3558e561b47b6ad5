import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { describeCluster } from '../../workflows';
import { withWorker } from './temporal';

const inventory = join(__dirname, '..', 'fixtures', 'inventory.yaml');
const mysqlPassword = `mysql-fixture-${Date.now()}-Pw`;
const replPassword = readFileSync(join(__dirname, '..', 'fixtures', 'repl.pw'), 'utf8').trim();
const env = { ...process.env, SUCCESSOVER_TEST_MYSQL_PASSWORD: mysqlPassword };

/** The history as JSON with every payload (base64 `data`) decoded, so a search sees the values. */
function readable(history: unknown): string {
  const decoded: string[] = [];
  const json = JSON.stringify(history, (key, value: unknown) => {
    if (key === 'data' && typeof value === 'string')
      decoded.push(Buffer.from(value, 'base64').toString('utf8'));
    return value;
  });
  return [json, ...decoded].join('\n');
}

describe('describeCluster through the dev server', () => {
  it('returns the secret-free spec and no secret reaches history', async () => {
    await withWorker(
      inventory,
      async ({ client, taskQueue }) => {
        const handle = await client.workflow.start(describeCluster, {
          taskQueue,
          workflowId: `describe-r2d2-${taskQueue}`,
          args: [{ cluster: 'r2d2' }],
        });
        const spec = await handle.result();
        expect(spec.name).toBe('r2d2');
        expect(spec.flavor).toBe('mariadb');
        expect(spec.primary).toBe('db1');
        expect(spec.hosts.map((h) => [h.name, h.address, h.port, h.promotion])).toEqual([
          ['db1', '10.0.0.11', 3306, 'prefer'],
          ['db2', '10.0.0.12', 3306, 'neutral'],
          ['db3', '10.0.0.13', 3307, 'must_not'],
        ]);
        expect(spec.traffic).toEqual({
          type: 'haproxy',
          runtimeApi: 'tcp:127.0.0.1:9999',
          backend: 'mysql_writer',
          servers: {},
        });
        expect(spec.policy.maxLagSeconds).toBe(2);
        expect(spec).not.toHaveProperty('credentials');

        const history = readable(await handle.fetchHistory());
        expect(history).toContain('mysql_writer'); // the spec is in there: the search below means something
        expect(history).toContain('Load the cluster spec'); // the activity's summary
        expect(history).not.toContain(mysqlPassword);
        expect(history).not.toContain(replPassword);
        expect(history).not.toContain('SUCCESSOVER_TEST_MYSQL_PASSWORD');
      },
      { env },
    );
  });

  it('fails at once, naming the known clusters, for an unknown cluster', async () => {
    await withWorker(
      inventory,
      async ({ client, taskQueue }) => {
        const err = await client.workflow
          .execute(describeCluster, {
            taskQueue,
            workflowId: `describe-nope-${taskQueue}`,
            args: [{ cluster: 'nope' }],
          })
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(WorkflowFailedError);
        const activity = (err as WorkflowFailedError).cause;
        expect(activity).toBeInstanceOf(ActivityFailure);
        const app = (activity as ActivityFailure).cause as ApplicationFailure;
        expect(app.type).toBe('BadConfiguration');
        expect(app.nonRetryable).toBe(true);
        expect(app.message).toMatch(/unknown cluster "nope".*r2d2, c3po/);
      },
      { env },
    );
  });
});
