// `run provision` refuses bad arguments before connecting to anything: the Temporal address points
// at a closed port, so a command that tried to connect would fail differently (or hang).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

  describe('--new-host', () => {
    let dir: string;
    beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'cli-new-host-'))));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const file = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    const run = (f: string) => cli('run', 'provision', '--cluster', 'lab', '--host', 'db4', '--new-host', f);

    test('a missing file, a file that is no host entry, and another host name are named', () => {
      expect(run(join(dir, 'absent.yaml')).stderr).toMatch(/--new-host .*absent\.yaml: ENOENT/);
      expect(run(file('list.yaml', '- address: 10.0.0.14\n')).stderr).toMatch(
        /--new-host .*list\.yaml: expected one host entry \(address, port, ssh: \{hostKey\}, service\)/,
      );
      const other = run(file('db5.yaml', 'name: db5\naddress: 10.0.0.15\n'));
      expect(other.code).toBe(1);
      expect(other.stderr).toMatch(
        /--new-host .*db5\.yaml names the host db5, but --host is db4: make them equal/,
      );
    });

    test('an entry the inventory schema refuses is refused with the field, before connecting', () => {
      const r = run(
        file('bad.yaml', 'name: db4\naddress: 10.0.0.14\nport: 99999\nssh: { hostKey: "not a key" }\n'),
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /invalid provision-replica input: newHost\.port: expected an integer 1-65535; newHost\.ssh\.hostKey: expected an OpenSSH public key/,
      );
      expect(r.stderr).not.toMatch(/connect|ECONNREFUSED/i);
    });
  });
});
