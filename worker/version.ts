// The release this checkout is (package.json): the CLI's --version and the worker's start line,
// so an operator planning an upgrade sees which workers run what (CHANGELOG.md, README "Upgrading
// the workers").
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const packageVersion = (): string =>
  (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
