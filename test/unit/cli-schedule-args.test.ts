// `schedule create` checks every argument and the runbook's input before connecting: the
// Temporal address points at a closed port, so a command that tried to create anything would
// fail differently. planSchedule, the part that builds the schedule, is checked directly.
import { cli } from './cli.fixtures';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { planSchedule, parseDuration } from '../../cli/commands/schedule';
import { plannedSuccessover, provisionReplica } from '../../workflows';

const create = (...args: string[]) =>
  cli('schedule', 'create', '--id', 'weekly', '--runbook', 'planned', '--cluster', 'lab', ...args);

describe('schedule CLI argument validation', () => {
  test('create needs --id, --runbook and --cluster', () => {
    const r = cli('schedule', 'create', '--runbook', 'planned', '--cluster', 'lab', '--cron', '0 2 * * 0');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/required option '--id <name>' not specified/);
  });

  test('exactly one of --cron and --window', () => {
    for (const r of [create(), create('--cron', '0 2 * * 0', '--window', 'Sun 02:00-04:00 UTC')]) {
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/give exactly one of --cron "0 2 \* \* 0" \(when to start\) or --window/);
    }
  });

  test('a bad window, cron, input or catch-up window is refused before anything is created', () => {
    const r = create('--cron', '0 2 * * 0', '--input', '{"target":"db2","waitTimeoutSeconds":-1}');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/invalid planned-successover input: waitTimeoutSeconds: Too small/);

    const cases: [string[], RegExp][] = [
      [['--window', 'Sun 02:00-04:00'], /invalid window "Sun 02:00-04:00": expected three parts/],
      [['--cron', '0 25 * * 0'], /invalid cron "0 25 \* \* 0": hour "25" is out of range 0-23/],
      [
        ['--cron', '0 2 * * 0', '--input', '{target'],
        /--input: not JSON .*; e.g. --input '\{"target":"db2"\}'/,
      ],
      [['--cron', '0 2 * * 0', '--input', '[1]'], /--input: expected a JSON object/],
      [
        ['--cron', '0 2 * * 0', '--input', '{"target":"db2","waitTimeoutSeconds":-1}'],
        /invalid planned-successover input: waitTimeoutSeconds: Too small: expected number to be >0/,
      ],
      [
        ['--cron', '0 2 * * 0', '--input', '{"tagret":"db2"}'],
        /invalid planned-successover input: unknown field "tagret"/,
      ],
      [
        ['--cron', '0 2 * * 0', '--input', '{"cluster":"prod"}'],
        /--input: its cluster "prod" is not --cluster "lab"/,
      ],
      [
        ['--window', 'Sun 02:00-04:00 UTC', '--input', '{"window":"Mon 02:00-04:00 UTC"}'],
        /--input: its window "Mon 02:00-04:00 UTC" is not --window "Sun 02:00-04:00 UTC"/,
      ],
      [
        ['--cron', '0 2 * * 0', '--catchup-window', 'soon'],
        /--catchup-window: expected a duration like 90s, 10m/,
      ],
      [['--cron', '0 2 * * 0', '--catchup-window', '5s'], /--catchup-window: at least 10s, got "5s"/],
    ];
    // The same function the command runs before connecting, without a process per case.
    for (const [args, problem] of cases) {
      const o: Record<string, string> = {};
      for (let i = 0; i < args.length; i += 2)
        o[args[i].slice(2).replace(/-(\w)/g, (_, c: string) => c.toUpperCase())] = args[i + 1];
      expect(() => planSchedule({ id: 'weekly', runbook: 'planned', cluster: 'lab', ...o })).toThrow(problem);
    }
  });

  test('an unknown runbook or a bad id is named', () => {
    expect(
      cli('schedule', 'create', '--id', 'x', '--runbook', 'reboot', '--cluster', 'lab', '--cron', '@daily')
        .stderr,
    ).toMatch(/--runbook: unknown or not yet schedulable runbook "reboot"; schedulable: planned, provision/);
    expect(
      cli(
        'schedule',
        'create',
        '--id',
        ' bad id',
        '--runbook',
        'planned',
        '--cluster',
        'lab',
        '--cron',
        '@daily',
      ).stderr,
    ).toMatch(/--id: " bad id" is not a schedule id/);
  });

  test('skip-window needs a workflow id or a cluster', () => {
    const r = cli('skip-window');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/give exactly one of --workflow-id ID or --cluster NAME/);
  });
});

describe('planSchedule', () => {
  const now = new Date('2025-06-07T12:00:00Z'); // a Saturday

  test('a window: a calendar at its opening in its zone, the window in the input, catch-up = its length', () => {
    const p = planSchedule(
      {
        id: 'lab-weekly',
        runbook: 'planned',
        cluster: 'lab',
        window: 'sun 4:00-06:00 europe/paris',
        input: '{"target":"db2"}',
        taskQueue: 'q',
      },
      now,
    );
    expect(p.options.spec).toEqual({
      calendars: [
        {
          second: 0,
          minute: 0,
          hour: 4,
          dayOfWeek: ['SUNDAY'],
          comment: 'opening of the window Sun 04:00-06:00 Europe/Paris',
        },
      ],
      timezone: 'Europe/Paris',
    });
    expect(p.options.action).toMatchObject({
      type: 'startWorkflow',
      workflowType: plannedSuccessover,
      taskQueue: 'q',
      workflowId: 'planned-successover/lab',
      args: [{ target: 'db2', cluster: 'lab', window: 'Sun 04:00-06:00 Europe/Paris' }],
    });
    expect(p.options.policies).toEqual({ overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: 2 * 3_600_000 });
    expect(p.memo).toMatchObject({
      runbook: 'planned',
      cluster: 'lab',
      window: 'Sun 04:00-06:00 Europe/Paris',
    });
    expect(p.summary).toMatch(/next opens 2025-06-08T02:00:00.000Z/);
    expect(p.warnings).toEqual([]);
  });

  test('a window whose opening daylight saving time skips or repeats is created with warnings', () => {
    const p = planSchedule(
      { id: 'x', runbook: 'planned', cluster: 'lab', window: 'Sun 02:30-04:00 Europe/Paris' },
      new Date('2025-01-01T00:00:00Z'),
    );
    expect(p.warnings).toEqual([
      expect.stringMatching(/02:30 does not exist on 2025-03-30 in Europe\/Paris/),
      expect.stringMatching(/02:30 happens twice on 2025-10-26 in Europe\/Paris/),
    ]);
  });

  test('a cron: passed through, 10 minutes of catch-up unless given', () => {
    const p = planSchedule({ id: 'x', runbook: 'planned', cluster: 'lab', cron: '0 2 * * 0' }, now);
    expect(p.options.spec).toEqual({ cronExpressions: ['0 2 * * 0'] });
    expect(p.options.policies?.catchupWindow).toBe(600_000);
    expect(p.options.action.args).toEqual([{ cluster: 'lab' }]);
    expect(
      planSchedule({ id: 'x', runbook: 'planned', cluster: 'lab', cron: '@weekly', catchupWindow: '1h' }, now)
        .options.policies?.catchupWindow,
    ).toBe(3_600_000);
  });

  test('provision: its own workflow id per host, its own schema, and no window', () => {
    const p = planSchedule(
      { id: 'x', runbook: 'provision', cluster: 'lab', cron: '@daily', input: '{"host":"db4"}' },
      now,
    );
    expect(p.options.action).toMatchObject({
      workflowType: provisionReplica,
      workflowId: 'provision-replica/lab/db4',
      args: [{ host: 'db4', cluster: 'lab' }],
    });
    expect(() =>
      planSchedule({ id: 'x', runbook: 'provision', cluster: 'lab', cron: '@daily' }, now),
    ).toThrow(/invalid provision-replica input: host: /);
    expect(() =>
      planSchedule(
        {
          id: 'x',
          runbook: 'provision',
          cluster: 'lab',
          window: 'Sun 02:00-04:00 UTC',
          input: '{"host":"db4"}',
        },
        now,
      ),
    ).toThrow(/unknown field "window" \(provision-replica takes no window: use --cron\)/);
  });

  test('parseDuration', () => {
    expect(parseDuration('--x', '90s')).toBe(90_000);
    expect(parseDuration('--x', '2d')).toBe(172_800_000);
    expect(() => parseDuration('--x', '1.5h')).toThrow(/--x: expected a duration like 90s/);
  });
});
