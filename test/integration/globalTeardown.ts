// Runs after every integration run, failed or not: stops the run's dev server, removes its dir.
import { rmSync } from 'node:fs';
import { stopDevServer } from '../../temporal/devserver';
import { TEST_ENV } from './testEnv';

export default async function globalTeardown(): Promise<void> {
  const dataDir = process.env[TEST_ENV.dataDir];
  if (!dataDir) return;
  try {
    await stopDevServer(dataDir, 5000);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
