// `run provision` refuses bad arguments before connecting to anything: the Temporal address points
// at a closed port, so a command that tried to connect would fail differently (or hang).
import { cli } from './cli.fixtures';

describe('run provision argument validation', () => {
  test('--host is required', () => {
    const r = cli('run', 'provision', '--cluster', 'lab');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/required option '--host <name>' not specified/);
  });

  test('an unknown method, verify mode and a lag that is not a number are named', () => {
    const r = cli(
      'run',
      'provision',
      '--cluster',
      'lab',
      '--host',
      'db4',
      '--method',
      'rsync',
      '--verify',
      'maybe',
      '--max-lag',
      'soon',
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /invalid provision-replica input: method: Invalid option: expected one of "logical"\|"physical"; verify: .*; maxLagSeconds: /,
    );
  });

  test('a host name that cannot be an inventory name', () => {
    const r = cli('run', 'provision', '--cluster', 'lab', '--host', '../etc');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/host: expected a host name from the inventory/);
  });
});
