import type { Command } from 'commander';
import { join } from 'node:path';
import {
  CLI_DEV_SERVER_DIR as DATA_DIR,
  devServerStatus,
  startDevServer,
  stopDevServer,
} from '../../temporal/devserver';

const port = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`expected a port 1-65535, got ${v}`);
  return n;
};

export function registerTemporal(program: Command): void {
  const t = program
    .command('temporal')
    .description(`the local Temporal dev server (state in ${join(DATA_DIR, 'temporal.sqlite')})`);
  t.command('start')
    .description('start the dev server in the background and register the search attributes')
    .option('--port <port>', 'gRPC port', port, 7233)
    .option('--ui-port <port>', 'Web UI port', port, 8233)
    .option('--ip <ip>', 'address to listen on', '127.0.0.1')
    .option('--headless', 'no Web UI')
    .action(async (o: { port: number; uiPort: number; ip: string; headless?: boolean }) => {
      const s = await startDevServer({
        dataDir: DATA_DIR,
        dbFilename: join(DATA_DIR, 'temporal.sqlite'),
        port: o.port,
        uiPort: o.uiPort,
        ip: o.ip,
        headless: o.headless,
      });
      console.log(
        s.alreadyRunning
          ? `Temporal dev server already running (pid ${s.pid})`
          : `Temporal dev server started in ${(s.startMs / 1000).toFixed(1)} s (pid ${s.pid}, log ${s.logFile})`,
      );
      console.log(`  address: ${s.address}   (TEMPORAL_ADDRESS=${s.address})`);
      if (s.uiUrl) console.log(`  UI:      ${s.uiUrl}`);
    });
  t.command('status')
    .description('whether the dev server runs and answers; exit 0 running, 1 not answering, 3 stopped')
    .action(async () => {
      const st = await devServerStatus(DATA_DIR);
      if (st.state === 'stopped') {
        console.log('Temporal dev server: stopped');
        process.exitCode = 3;
        return;
      }
      const s = st.server;
      console.log(`Temporal dev server: ${st.state} (pid ${s.pid}, since ${s.startedAt})`);
      console.log(`  address: ${s.address}`);
      if (s.uiUrl) console.log(`  UI:      ${s.uiUrl}`);
      if (st.state !== 'running') process.exitCode = 1;
    });
  t.command('stop')
    .description('stop the dev server that `temporal start` started')
    .action(async () => {
      const r = await stopDevServer(DATA_DIR);
      console.log(
        r.stopped
          ? `Temporal dev server stopped (pid ${r.server?.pid})`
          : 'Temporal dev server was not running',
      );
    });
}
