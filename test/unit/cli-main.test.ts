// cli/main.ts loads only the command groups the command line names: the lazy program must show
// what the full one shows, and `--help` must load none of the heavy packages.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Command } from 'commander';
import { ALL_GROUPS, buildProgram, COMMANDS, commandWords } from '../../cli/main';
import { setTemporalFlags, temporalConfig } from '../../temporal/connection';

const ROOT = join(__dirname, '..', '..');
const sub = (p: Command, name: string) => p.commands.find((c) => c.name() === name)!;

describe('the lazy program', () => {
  const full = buildProgram();

  it('lists the same top-level commands, terms and summaries as the full program', () => {
    // On a difference, bring COMMANDS in cli/main.ts in line with what the group registers.
    expect(buildProgram([]).helpInformation()).toBe(full.helpInformation());
    expect(COMMANDS.map((c) => c.term.split(' ')[0])).toEqual(
      full.commands.map((c) => c.name()).filter((n) => n !== 'help'),
    );
  });

  it("shows a command's own help as the full program does", () => {
    for (const c of COMMANDS) {
      const name = c.term.split(' ')[0];
      expect(sub(buildProgram([name, '--help']), name).helpInformation()).toBe(
        sub(full, name).helpInformation(),
      );
    }
  });

  it('`run planned` loads the run group only; `run emergency` the groups up to its own', () => {
    const planned = sub(buildProgram(['run', 'planned', '--cluster', 'lab']), 'run');
    expect(planned.commands.map((c) => c.name())).toContain('planned');
    expect(planned.commands.map((c) => c.name())).not.toContain('emergency');
    const emergency = sub(buildProgram(['run', 'emergency']), 'run');
    expect(emergency.commands.map((c) => c.name())).toEqual(expect.arrayContaining(['planned', 'emergency']));
    expect(emergency.commands.map((c) => c.name())).not.toContain('upgrade');
  });

  it('every group is listed in ALL_GROUPS, and emergency after run', () => {
    expect(ALL_GROUPS.indexOf('emergency')).toBeGreaterThan(ALL_GROUPS.indexOf('run'));
    expect(new Set(COMMANDS.flatMap((c) => c.groups))).toEqual(new Set(ALL_GROUPS));
  });
});

test('commandWords finds the command past program options and through help', () => {
  expect(commandWords(['run', 'planned', '--cluster', 'lab'])).toEqual(['run', 'planned']);
  // An option's value reads as a word: harmless, a name that is no subcommand loads every group.
  expect(commandWords(['--address', 'h:1', 'topology', '--cluster', 'lab'])).toEqual(['topology', 'lab']);
  expect(commandWords(['--namespace', 'ops', '--help'])).toEqual([]);
  expect(commandWords(['help', 'run', 'planned'])).toEqual(['run', 'planned']);
  expect(commandWords(['--', 'run'])).toEqual([]);
});

test('--address and --namespace, before or after the command, reach every connection', async () => {
  const program = buildProgram(['inventory', 'check', 'x.yaml']).exitOverride();
  const stop = new Error('stop before the action');
  program.hook('preAction', () => {
    throw stop;
  });
  try {
    await expect(
      program.parseAsync(['inventory', 'check', 'x.yaml', '--address', 'h:1', '--namespace', 'ops'], {
        from: 'user',
      }),
    ).rejects.toBe(stop);
    expect(temporalConfig({ HOME: '/nonexistent' }, { labDir: null })).toMatchObject({
      connectionOptions: { address: 'h:1' },
      namespace: 'ops',
      source: { kind: 'flag' },
    });
  } finally {
    setTemporalFlags({});
  }
});

/** The packages a program built for args has loaded (from the sources, through tsx). */
function loadedPackages(args: string[]): string[] {
  const script = `
    require('./cli/main.ts').buildProgram(${JSON.stringify(args)});
    const names = new Set();
    for (const f of Object.keys(require.cache)) {
      const m = /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(f);
      if (m) names.add(m[1]);
    }
    console.log(JSON.stringify([...names].sort()));`;
  const r = spawnSync(process.execPath, ['--require', 'tsx/cjs', '-e', script], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as string[];
}

const HEAVY = ['@temporalio/client', '@temporalio/worker', 'mysql2', 'ssh2', 'zod', 'yaml', 'pino'];

test('`--help` loads none of the heavy packages; `run planned` only the Temporal client', () => {
  expect(loadedPackages(['--help']).filter((p) => HEAVY.includes(p))).toEqual([]);
  const planned = loadedPackages(['run', 'planned', '--cluster', 'lab']);
  expect(planned).toContain('@temporalio/client');
  expect(planned.filter((p) => HEAVY.includes(p))).toEqual(['@temporalio/client', 'zod']);
});
