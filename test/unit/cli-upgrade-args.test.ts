// `run upgrade` and `upgrade …` refuse bad arguments before connecting to anything.
import { cli } from './cli.fixtures';

describe('blue/green upgrade CLI argument validation', () => {
  test('--green is required', () => {
    const r = cli('run', 'upgrade', '--cluster', 'lab');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/required option '--green <host>' not specified/);
  });

  test('a target version that is not a version names the field and an example', () => {
    const r = cli('run', 'upgrade', '--cluster', 'lab', '--green', 'db4', '--target-version', 'latest');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/targetVersion: expected a version like 11.4 or 8.0.36/);
    expect(r.stderr).not.toMatch(/ECONNREFUSED|connect/);
  });

  test('a window that does not parse is refused with an example', () => {
    const r = cli('run', 'upgrade', '--cluster', 'lab', '--green', 'db4', '--window', 'Sunday night');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/window: invalid window "Sunday night"/);
  });

  test('a negative soak is refused', () => {
    const r = cli('run', 'upgrade', '--cluster', 'lab', '--green', 'db4', '--soak', '-5');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/soakSeconds/);
  });

  test('rollback and finalize need the cluster', () => {
    for (const verb of ['rollback', 'finalize', 'approve', 'abort']) {
      const r = cli('upgrade', verb);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/required option '--cluster <name>' not specified/);
    }
  });
});
