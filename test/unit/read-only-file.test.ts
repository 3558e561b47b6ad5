import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readOnlyFileCommand } from '../../activities/readOnlyFile';
import { dialectFor } from '../../domain/dialects';
import { validateInventory } from '../../domain/inventory';

const sh = (command: string) => execFileSync('sh', ['-c', command]);

describe("successover's read_only option file", () => {
  test('is written whole by sh, with the flavor options under [mysqld], and removed again', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ro-file-'));
    const path = join(dir, "zz succ'over.cnf"); // a path that needs quoting
    sh(readOnlyFileCommand(path, dialectFor('mysql').readOnlyOptions(), "fenced: db1's $(id) `x`\nnext"));
    const text = readFileSync(path, 'utf8');
    expect(text.split('\n')).toEqual([
      "# fenced: db1's $(id) `x` next",
      '# successover removes this file when it promotes this server; do not edit it by hand.',
      '[mysqld]',
      'read_only=ON',
      'super_read_only=ON',
      '',
    ]);
    expect(existsSync(`${path}.successover-tmp`)).toBe(false);
    sh(readOnlyFileCommand(path, null, 'promoted'));
    expect(existsSync(path)).toBe(false);
    sh(readOnlyFileCommand(path, null, 'promoted')); // removing twice is fine
  });

  test('MariaDB needs read_only only (READ ONLY ADMIN accounts are stopped by the kill loop)', () => {
    expect(dialectFor('mariadb').readOnlyOptions()).toEqual(['read_only=ON']);
  });

  test('the inventory takes an absolute .cnf path as optionFile, and says so otherwise', () => {
    const doc = (optionFile: string) => ({
      clusters: [
        {
          name: 'c',
          flavor: 'mariadb',
          hosts: [
            { name: 'db1', address: '10.0.0.1', optionFile },
            { name: 'db2', address: '10.0.0.2' },
          ],
        },
      ],
      credentials: {
        mysql: { user: 'so', passwordEnv: 'X' },
        replication: { user: 'repl', passwordEnv: 'Y' },
      },
    });
    expect(validateInventory(doc('/etc/mysql/conf.d/zz-successover.cnf')).ok).toBe(true);
    const bad = validateInventory(doc('conf.d/zz.cnf'));
    expect(bad.ok ? [] : bad.problems).toEqual([
      'clusters[0].hosts[0].optionFile: expected the absolute path of a .cnf file, e.g. /etc/mysql/conf.d/zz-successover.cnf, got "conf.d/zz.cnf"',
    ]);
  });
});
