// The emergency and detector commands refuse bad arguments before connecting to anything: the
// Temporal address points at a closed port, so a command that tried to connect would fail
// differently (or hang).
import { cli } from './cli.fixtures';

describe('emergency CLI argument validation', () => {
  test('run emergency without --cluster', () => {
    const r = cli('run', 'emergency');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/required option '--cluster <name>' not specified/);
  });

  test('run emergency with a cluster name the input schema rejects', () => {
    const r = cli('run', 'emergency', '--cluster', 'no such/cluster');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /invalid emergency-recovery input: cluster: expected a cluster name from the inventory/,
    );
  });

  test('approve needs --cluster', () => {
    const r = cli('approve', '--by', 'me');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/required option '--cluster <name>' not specified/);
  });

  test('detector start rejects a probe count or interval out of range', () => {
    expect(cli('detector', 'start', '--cluster', 'lab', '--probes', '0').stderr).toMatch(
      /--probes: expected an integer ≥ 1, got "0"/,
    );
    const r = cli('detector', 'start', '--cluster', 'lab', '--interval', 'soon');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--interval: expected a number ≥ 0.2, got "soon"/);
  });
});
