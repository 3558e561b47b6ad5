// What an operator sees of a planned successover without the CLI: the `progress` query, the
// search attributes, the activity summaries in the history, the Start Workflow form's input
// check, and the Temporal Web UI itself (headless Chromium) listing and showing the run.
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter, defineSearchAttributeKey, type Payload } from '@temporalio/common';
import { failureReason, startRunbook } from '../../cli/runbooks';
import { RUNBOOKS, type PlannedSuccessoverResult, type TimelineStep } from '../../domain/runbook';
import { plannedSuccessover } from '../../workflows';
import { progressQuery, workflowIdFor, type Progress } from '../../workflows/api';
import { reloadUntilVisible, shows, visible, withPage } from './browser';
import { startLab, type LabFixture } from './labFixture';
import { withWorker } from './temporal';
import { testEnv } from './testEnv';

const SUMMARY = 'planned successover → db2 on lab';
const SWITCH = 'switch writes db1 → db2';

let lab: LabFixture;
/** The real db1 → db2 run every test below looks at, and what was seen while it ran. */
let run: {
  workflowId: string;
  runId: string;
  result: PlannedSuccessoverResult;
  whileRunning: Progress[];
  afterwards: Progress;
  currentDetails: string | undefined;
  description: Awaited<ReturnType<WorkflowHandle['describe']>>;
  summaries: { eventId: string; type: string; summary: string | undefined }[];
};
/** Workflow ids of runs started without search attributes: the Cluster filter must hide them. */
const unfiltered: string[] = [];

const decode = (p: unknown): string | undefined =>
  p ? defaultPayloadConverter.fromPayload<string>(p as Payload) : undefined;

async function collectProgress(handle: WorkflowHandle, until: Promise<unknown>): Promise<Progress[]> {
  const seen: Progress[] = [];
  let finished = false;
  void until.finally(() => (finished = true)).catch(() => undefined);
  while (!finished) {
    try {
      seen.push(await handle.query(progressQuery));
    } catch {
      // the first workflow task may not have run yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return seen;
}

beforeAll(async () => {
  lab = await startLab({ mode: 'netns', hosts: 3 });
  await withWorker(lab.info.inventory, async ({ client, taskQueue }) => {
    // Started the way the CLI starts it: workflow id, search attributes and static summary.
    const started = await startRunbook<PlannedSuccessoverResult>(client, {
      runbook: RUNBOOKS.planned,
      workflow: plannedSuccessover,
      cluster: 'lab',
      input: { cluster: 'lab', target: 'db2' },
      summary: SUMMARY,
      taskQueue,
    });
    const handle = client.workflow.getHandle(started.workflowId, started.runId);
    const [result, whileRunning] = await Promise.all([
      started.result,
      collectProgress(handle, started.result),
    ]);
    // Queried after completion too: the worker replays the history to answer.
    const afterwards = await handle.query(progressQuery);
    // What the UI's Current Details pane asks for.
    const metadata = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    const description = await handle.describe();
    const summaries = [];
    for (const e of (await handle.fetchHistory()).events ?? []) {
      const type = e.activityTaskScheduledEventAttributes
        ? 'activity'
        : e.workflowExecutionStartedEventAttributes
          ? 'workflow'
          : undefined;
      if (type)
        summaries.push({ eventId: String(e.eventId), type, summary: decode(e.userMetadata?.summary) });
    }
    run = {
      ...started,
      result,
      whileRunning,
      afterwards,
      currentDetails: metadata.currentDetails,
      description,
      summaries,
    };
  });
});
afterAll(async () => {
  await lab?.down();
});

describe('the planned successover as the UI and its API show it', () => {
  test('the progress query answers during and after the run', () => {
    const { whileRunning, afterwards, result } = run;
    expect(whileRunning.length).toBeGreaterThan(0);
    for (const p of whileRunning) {
      expect(p).toEqual({
        runbook: 'planned-successover',
        cluster: 'lab',
        phase: expect.any(String),
        timeline: expect.any(Array),
      });
    }
    // Seen mid-run: a phase before the end.
    const mid = whileRunning.find((p) => p.phase !== 'done');
    expect(mid).toBeDefined();
    expect(['starting', 'lock', 'preflight', 'catch-up', 'critical-section', 'repoint', 'verify']).toContain(
      mid?.phase,
    );
    // Each answer's timeline is the start of the final one.
    const steps = (t: TimelineStep[]) => t.map((s) => `${s.step}@${s.host ?? ''}`);
    for (const p of whileRunning)
      expect(steps(result.timeline).slice(0, p.timeline.length)).toEqual(steps(p.timeline));
    // Queries land while an activity is in flight: its step shows as running.
    expect(whileRunning.some((p) => p.timeline.some((s) => s.status === 'running'))).toBe(true);
    expect(afterwards.phase).toBe('done');
    expect(afterwards.timeline).toEqual(result.timeline);
    expect(run.currentDetails).toMatch(/^\*\*done\*\*\n\ndb1 → db2 in \d+ ms of write blackout$/);
  });

  test('Cluster, Runbook and RunbookPhase are set on the run', () => {
    const sa = run.description.typedSearchAttributes;
    expect(sa.get(defineSearchAttributeKey('Cluster', 'KEYWORD'))).toBe('lab');
    expect(sa.get(defineSearchAttributeKey('Runbook', 'KEYWORD'))).toBe('planned-successover');
    expect(sa.get(defineSearchAttributeKey('RunbookPhase', 'KEYWORD'))).toBe('done');
    expect(run.description.status.name).toBe('COMPLETED');
  });

  test('every scheduled activity carries a summary; the run carries its static summary', () => {
    const activities = run.summaries.filter((s) => s.type === 'activity');
    expect(activities.length).toBeGreaterThan(8);
    expect(activities.filter((s) => !s.summary)).toEqual([]);
    const texts = activities.map((s) => s.summary);
    expect(texts).toEqual(
      expect.arrayContaining([
        'lock cluster lab',
        'discover lab',
        SWITCH,
        'repoint db1 to db2',
        'repoint db3 to db2',
        'unlock cluster lab',
      ]),
    );
    expect(run.summaries.find((s) => s.type === 'workflow')?.summary).toBe(SUMMARY);
  });

  test('the timeline has start, end and duration for every step', () => {
    const { timeline } = run.result;
    expect(run.result.target).toBe('db2');
    expect(timeline.length).toBeGreaterThan(8);
    for (const s of timeline) {
      expect(s.status).toBe('done');
      expect(Number.isNaN(Date.parse(s.start))).toBe(false);
      expect(Number.isNaN(Date.parse(s.end ?? ''))).toBe(false);
      expect(s.ms).toBe(Date.parse(s.end ?? '') - Date.parse(s.start));
      expect(s.ms).toBeGreaterThanOrEqual(0);
    }
    expect(timeline.map((s) => s.step)).toEqual(expect.arrayContaining(['lock', 'read-only', 'promote']));
  });

  test('a bad input from the Start Workflow form fails the run at once, naming the field', async () => {
    await withWorker(lab.info.inventory, async ({ client, taskQueue }) => {
      const badInput = async (input: unknown) => {
        const workflowId = `planned-successover/lab-bad-input-${unfiltered.length}-${taskQueue}`;
        unfiltered.push(workflowId);
        const t0 = Date.now();
        const handle = await client.workflow.start('plannedSuccessover', {
          taskQueue,
          workflowId,
          args: [input],
        });
        const err = await handle.result().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(WorkflowFailedError);
        const ms = Date.now() - t0;
        // Failed in its first workflow task: nothing was scheduled, nothing retried.
        const events = (await handle.fetchHistory()).events ?? [];
        expect(events.filter((e) => e.activityTaskScheduledEventAttributes)).toEqual([]);
        expect(events.filter((e) => e.workflowTaskStartedEventAttributes)).toHaveLength(1);
        expect(ms).toBeLessThan(10_000);
        return failureReason(err);
      };
      expect(await badInput({ cluster: 'lab', target: 5 })).toEqual({
        type: 'BadInput',
        message: expect.stringMatching(/^invalid planned-successover input: target: .*expected string/),
      });
      expect(await badInput({ cluster: 'lab', targett: 'db2' })).toEqual({
        type: 'BadInput',
        message: expect.stringContaining('unknown field "targett"'),
      });
    });
  });

  test('the Web UI lists the run under Cluster="lab" and shows its summaries', async () => {
    const ui = testEnv('uiUrl');
    const ns = testEnv('namespace');
    const { workflowId, runId } = run;
    expect(workflowId).toBe(workflowIdFor(RUNBOOKS.planned, 'lab'));
    await withPage(async (page) => {
      // The list filtered by the visibility query the UI takes in its `query` parameter.
      const list = `${ui}/namespaces/${ns}/workflows?query=${encodeURIComponent('Cluster="lab"')}`;
      await page.goto(list, { waitUntil: 'domcontentloaded' });
      // This run's row: its run id links to it (other files' runs may share Cluster="lab").
      const row = page.locator('tr', { has: page.locator(`a[href*="${runId}"]`) }).first();
      await reloadUntilVisible(page, row);
      const rowText = await row.innerText();
      expect(rowText).toContain('Completed');
      expect(rowText).toContain(workflowId);
      expect(rowText).toContain('plannedSuccessover');
      await shows(page.getByText(/Cluster\s*=\s*"lab"/));
      await page.screenshot({ path: '/tmp/ui-list.png' });
      const listText = await page.locator('body').innerText();
      for (const id of unfiltered) expect(listText).not.toContain(id);

      // The run's page: the static summary on its start event, the activity summaries in the
      // timeline and the event list.
      const history = `${ui}/namespaces/${ns}/workflows/${encodeURIComponent(workflowId)}/${runId}/history`;
      await page.goto(history, { waitUntil: 'domcontentloaded' });
      await shows(page.getByText(`runCriticalSection • ${SWITCH}`));
      // The start event carries the summary; the event list shows 100 events a page, newest first,
      // so in a run of more than 100 events it is on the list's first page only oldest first.
      if (!(await visible(page.getByText(SUMMARY), 5000)))
        await page
          .getByRole('button', { name: /Descending|Ascending/ })
          .first()
          .click();
      await shows(page.getByText(SUMMARY));
      await shows(page.getByText('Completed', { exact: true }));
      await page.screenshot({ path: '/tmp/ui-run.png' });

      // The User Metadata tab: the summary, and every activity listed by its summary.
      await page.getByText('User Metadata', { exact: true }).first().click();
      await shows(page.getByText('Events with Metadata'));
      await shows(page.getByText(SWITCH, { exact: true }));
      await shows(page.getByText('repoint db3 to db2', { exact: true }));
      // The UI renders the summary as markdown in a frame of its own.
      await shows(page.frameLocator('iframe[title="output"]').first().getByText(SUMMARY, { exact: true }));
      await page.screenshot({ path: '/tmp/ui-metadata.png' });
    });
  });
});
