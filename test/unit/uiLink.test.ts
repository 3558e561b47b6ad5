// Which Web UI `successover run` links to: the env override, else the recorded dev server that
// serves the address the CLI connects to, else the default.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_UI_URL, uiBaseUrl, uiLink } from '../../cli/runbooks';

const root = mkdtempSync(join(tmpdir(), 'souilink-'));
const standIns: ChildProcess[] = [];
afterAll(() => {
  for (const p of standIns) p.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

/** A live process whose command line reads like `temporal server start-dev --port <port>`. */
function devServerStandIn(address: string): number {
  const port = address.slice(address.lastIndexOf(':') + 1);
  const p = spawn('sh', ['-c', 'sleep 60; :', 'start-dev', '--port', port], { stdio: 'ignore' });
  standIns.push(p);
  return p.pid!;
}

/** A data dir with the pid file devserver.ts writes; pid defaults to a stand-in dev server. */
function recorded(name: string, server: { address: string; uiUrl?: string; pid?: number }): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const record = {
    pid: devServerStandIn(server.address),
    namespace: 'default',
    logFile: '',
    binary: '',
    startedAt: '',
    ...server,
  };
  writeFileSync(join(dir, 'temporal.pid'), JSON.stringify(record));
  return dir;
}

describe('uiBaseUrl', () => {
  const cli = recorded('cli', { address: '127.0.0.1:7233', uiUrl: 'http://127.0.0.1:8233' });
  const lab = recorded('lab', { address: '127.0.0.1:41234', uiUrl: 'http://127.0.0.1:41235' });
  const dirs = [cli, lab];

  it('SUCCESSOVER_UI_URL wins over any recorded server', () => {
    const env = { TEMPORAL_ADDRESS: '127.0.0.1:41234', SUCCESSOVER_UI_URL: 'https://temporal.example/' };
    expect(uiBaseUrl(env, dirs)).toBe('https://temporal.example');
  });

  it("the lab's dev server UI when the CLI talks to the lab's server", () => {
    expect(uiBaseUrl({ TEMPORAL_ADDRESS: '127.0.0.1:41234' }, dirs)).toBe('http://127.0.0.1:41235');
    expect(uiBaseUrl({ TEMPORAL_ADDRESS: 'localhost:41234' }, dirs)).toBe('http://127.0.0.1:41235');
  });

  it('the `temporal start` server UI for the default address', () => {
    expect(uiBaseUrl({}, [lab, cli])).toBe('http://127.0.0.1:8233');
  });

  it('the default when no running recorded server serves that address', () => {
    expect(uiBaseUrl({ TEMPORAL_ADDRESS: 'temporal.example:7233' }, dirs)).toBe(DEFAULT_UI_URL);
    expect(uiBaseUrl({ TEMPORAL_ADDRESS: '127.0.0.1:5555' }, dirs)).toBe(DEFAULT_UI_URL);
    expect(uiBaseUrl({}, [join(root, 'nothing-here')])).toBe(DEFAULT_UI_URL);
    expect(uiBaseUrl({ TEMPORAL_ADDRESS: 'localhost' }, dirs)).toBe('http://127.0.0.1:8233');
    expect(uiBaseUrl({ TEMPORAL_ADDRESS: '[::1]:41234' }, dirs)).toBe('http://127.0.0.1:41235');
  });

  it('ignores a record whose process is gone and a headless server', () => {
    // Pid 2^22 + 1 is above Linux's pid_max: never a live process.
    const gone = recorded('gone', {
      address: '127.0.0.1:7233',
      uiUrl: 'http://127.0.0.1:9999',
      pid: 4194305,
    });
    const headless = recorded('headless', { address: '127.0.0.1:7233' });
    expect(uiBaseUrl({}, [gone, headless])).toBe(DEFAULT_UI_URL);
  });
});

test('uiLink points at the run in its namespace', () => {
  const lab = recorded('lab2', { address: '127.0.0.1:41236', uiUrl: 'http://127.0.0.1:41237' });
  expect(
    uiLink(
      'planned-successover/lab',
      'r1',
      { TEMPORAL_ADDRESS: '127.0.0.1:41236', TEMPORAL_NAMESPACE: 'ops' },
      [lab],
    ),
  ).toBe('http://127.0.0.1:41237/namespaces/ops/workflows/planned-successover%2Flab/r1/history');
});
