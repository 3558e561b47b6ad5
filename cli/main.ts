// successover's command line. Each command group lives in cli/commands/<group>.ts and registers
// itself on the program. Only the groups the command line names are loaded: they pull in the
// Temporal client, the MySQL and SSH clients or the lab, and `successover --help` needs none of
// them. Every other top-level command is listed from COMMANDS alone (its term and summary);
// test/unit/cli-main.test.ts checks that list against what the groups register.
import { join } from 'node:path';
import { Command } from 'commander';
import { REPO_ROOT } from '../temporal/binary';
import { setTemporalFlags } from '../temporal/connection';
import { packageVersion } from '../worker/version';

type Register = (program: Command) => void;

/** The command groups, loaded on demand (require: nothing is loaded before it is needed). */
export const GROUPS = {
  inventory: () =>
    (require('./commands/inventory') as typeof import('./commands/inventory')).registerInventory,
  temporal: () => (require('./commands/temporal') as typeof import('./commands/temporal')).registerTemporal,
  worker: () => (require('./commands/worker') as typeof import('./commands/worker')).registerWorker,
  lab: () => (require('./commands/lab') as typeof import('./commands/lab')).registerLab,
  run: () => (require('./commands/run') as typeof import('./commands/run')).registerRun,
  topology: () => (require('./commands/topology') as typeof import('./commands/topology')).registerTopology,
  bench: () => (require('./commands/bench') as typeof import('./commands/bench')).registerBench,
  emergency: () =>
    (require('./commands/emergency') as typeof import('./commands/emergency')).registerEmergency,
  detector: () => (require('./commands/detector') as typeof import('./commands/detector')).registerDetector,
  webhook: () => (require('./commands/webhook') as typeof import('./commands/webhook')).registerWebhook,
  schedule: () => (require('./commands/schedule') as typeof import('./commands/schedule')).registerSchedule,
  upgrade: () => (require('./commands/upgrade') as typeof import('./commands/upgrade')).registerUpgrade,
  fleet: () => (require('./commands/fleet') as typeof import('./commands/fleet')).registerFleet,
} satisfies Record<string, () => Register>;
export type Group = keyof typeof GROUPS;

/** Every group, in the order the full program registers them (emergency needs run first). */
export const ALL_GROUPS = Object.keys(GROUPS) as Group[];

/**
 * The top-level commands in --help order: the term and summary --help shows, and the groups that
 * register the command or its subcommands, in order. `run`'s subcommands come from three groups:
 * `run planned` stops loading at the first group that has `planned`.
 */
export const COMMANDS: { term: string; summary: string; groups: Group[] }[] = [
  { term: 'inventory', summary: 'work with inventory files', groups: ['inventory'] },
  {
    term: 'temporal',
    summary: `the local Temporal dev server (state in ${join(REPO_ROOT, '.data', 'temporal.sqlite')})`,
    groups: ['temporal'],
  },
  {
    term: 'worker [options]',
    summary: 'run a worker: executes the runbooks for the clusters of an inventory (TEMPORAL_ADDRESS etc.)',
    groups: ['worker'],
  },
  { term: 'lab', summary: 'a real MariaDB GTID replication topology on this machine', groups: ['lab'] },
  {
    term: 'run',
    summary: 'run a runbook on a cluster and wait for it',
    groups: ['run', 'emergency', 'upgrade'],
  },
  {
    term: 'topology [options]',
    summary: 'show who replicates from whom, read-only flags, lag, GTIDs and traffic (through a worker)',
    groups: ['topology'],
  },
  { term: 'bench', summary: 'benchmarks on a lab of their own (needs root: netns)', groups: ['bench'] },
  {
    term: 'approve [options]',
    summary: 'promote the candidate a waiting emergency recovery chose',
    groups: ['run', 'emergency'],
  },
  {
    term: 'abort [options]',
    summary: 'abort a waiting emergency recovery; nothing is changed',
    groups: ['run', 'emergency'],
  },
  {
    term: 'detector',
    summary: 'the built-in detector: probes the primary, starts emergency recovery when it fails',
    groups: ['detector'],
  },
  { term: 'webhook', summary: 'receive alerts that start emergency recoveries', groups: ['webhook'] },
  {
    term: 'schedule',
    summary: 'Temporal Schedules that start runbooks: at upgrade windows or on a cron',
    groups: ['schedule'],
  },
  {
    term: 'skip-window [options]',
    summary: 'start a run that waits for its upgrade window now (operator override, logged with who)',
    groups: ['schedule'],
  },
  { term: 'upgrade', summary: 'answer a running blue/green upgrade', groups: ['upgrade'] },
  {
    term: 'fleet',
    summary: 'run a runbook on many clusters: bounded concurrency, a failure budget, pause/resume/abort',
    groups: ['fleet'],
  },
  {
    term: 'drain-host [options] <machine>',
    summary:
      'move every primary off a machine (planned successovers to healthy replicas elsewhere); clusters that cannot move are listed',
    groups: ['fleet'],
  },
];

/** Program options that take a value: skipped, with it, when looking for the command's name. */
const VALUE_OPTIONS = new Set(['--address', '--namespace']);

/** The words that name the command in argv (after node and the script): ['run', 'planned']. */
export function commandWords(args: string[]): string[] {
  const words: string[] = [];
  for (let i = 0; i < args.length && words.length < 2; i++) {
    const a = args[i];
    if (a === '--') break;
    if (a.startsWith('-')) {
      if (VALUE_OPTIONS.has(a)) i++;
      continue;
    }
    words.push(a);
  }
  // `help run planned` asks for run planned's help.
  return words[0] === 'help' ? commandWords(args.slice(args.indexOf('help') + 1)) : words;
}

const nameOf = (term: string) => term.split(' ')[0];

/**
 * The program, with the groups the command line needs registered (every group for undefined)
 * and every other top-level command listed by name and summary only (never run: naming it loads
 * its group).
 */
export function buildProgram(args?: string[]): Command {
  const program = new Command()
    .name('successover')
    .description('MySQL/MariaDB high-availability runbooks as durable Temporal workflows')
    .version(packageVersion(), '-V, --version', 'the release of this checkout (CHANGELOG.md)')
    .option(
      '--address <host:port>',
      "Temporal server (default: TEMPORAL_ADDRESS, the lab's when `lab up` runs one, else localhost:7233)",
    )
    .option(
      '--namespace <name>',
      'Temporal namespace (default: TEMPORAL_NAMESPACE, else the profile, else default)',
    )
    .showHelpAfterError();
  const registered = new Set<Group>();
  const register = (g: Group) => {
    if (registered.has(g)) return;
    registered.add(g);
    GROUPS[g]()(program);
  };
  if (args === undefined) ALL_GROUPS.forEach(register);
  else {
    const [name, sub] = commandWords(args);
    for (const g of COMMANDS.find((c) => nameOf(c.term) === name)?.groups ?? []) {
      register(g);
      const cmd = program.commands.find((c) => c.name() === name);
      if (sub !== undefined && cmd?.commands.some((c) => c.name() === sub || c.aliases().includes(sub)))
        break;
    }
  }
  // A listed command: `.command('worker [options]')` shows the term --help shows for the real one.
  const have = new Set(program.commands.map((c) => c.name()));
  for (const c of COMMANDS) if (!have.has(nameOf(c.term))) program.command(c.term).description(c.summary);
  program.hook('preAction', () => {
    const o = program.opts<{ address?: string; namespace?: string }>();
    setTemporalFlags({ address: o.address, namespace: o.namespace });
  });
  return program;
}

/** bin/successover.js: the command line in argv (node, script, args...). */
export function main(argv: string[] = process.argv): void {
  buildProgram(argv.slice(2))
    .parseAsync(argv)
    .catch((err: unknown) => {
      console.error(`successover: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    });
}
