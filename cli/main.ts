// successover's command line. Each command group lives in cli/commands/<group>.ts and
// registers itself on the program; this file only wires them together.
import { Command } from 'commander';
import { registerInventory } from './commands/inventory';
import { registerTemporal } from './commands/temporal';
import { registerWorker } from './commands/worker';
import { registerLab } from './commands/lab';
import { registerRun } from './commands/run';
import { registerTopology } from './commands/topology';
import { registerBench } from './commands/bench';
import { registerEmergency } from './commands/emergency';
import { registerDetector } from './commands/detector';
import { registerWebhook } from './commands/webhook';
import { registerSchedule } from './commands/schedule';
import { registerUpgrade } from './commands/upgrade';

const program = new Command()
  .name('successover')
  .description('MySQL/MariaDB high-availability runbooks as durable Temporal workflows')
  .showHelpAfterError();

registerInventory(program);
registerTemporal(program);
registerWorker(program);
registerLab(program);
registerRun(program);
registerTopology(program);
registerBench(program);
registerEmergency(program);
registerDetector(program);
registerWebhook(program);
registerSchedule(program);
registerUpgrade(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`successover: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
