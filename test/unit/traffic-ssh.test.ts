// shellQuote, host key parsing, fingerprints and the persistent shell session's framing: checked
// against the real /bin/sh and ssh-keygen.
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import fc from 'fast-check';
import type { ClientChannel } from 'ssh2';
import { fingerprint, parseHostKey, shellCommand, shellQuote } from '../../activities/ssh';
import { Shell, ShellLost, ShellTimeout } from '../../activities/sshShell';

/** What sh sees as the one argument after quoting. */
function throughSh(arg: string): string {
  return execFileSync('/bin/sh', ['-c', `printf '%s' ${shellQuote(arg)}`], { encoding: 'utf8' });
}

describe('shellQuote', () => {
  const hostile = [
    '',
    "'",
    "''",
    "it's",
    "'; rm -rf / #",
    '$(touch /tmp/pwned)',
    '`id`',
    '${HOME}',
    '"double"',
    'a\\b',
    'line1\nline2',
    'tab\there',
    ' leading and trailing ',
    '*',
    '~root',
    '-n',
    'a;b&&c||d|e>f<g',
    '!history',
    '#comment',
    'ünïcödé ✓',
  ];

  it.each(hostile)('passes %j to sh as exactly one unchanged argument', (arg) => {
    expect(throughSh(arg)).toBe(arg);
  });

  it('keeps plain words readable and quotes the rest', () => {
    expect(shellQuote('eth0')).toBe('eth0');
    expect(shellQuote('10.0.0.100/32')).toBe('10.0.0.100/32');
    expect(shellQuote('a b')).toBe("'a b'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote('')).toBe("''");
  });

  it('refuses a NUL byte, which no argv can carry', () => {
    expect(() => shellQuote('a\0b')).toThrow(/NUL/);
  });

  it('round-trips arbitrary strings of shell metacharacters', () => {
    const meta = fc.constantFrom(...`'"\\$\`;&|*?~#!(){}[]<> \n\t=%-aZ0é`.split(''));
    // One sh per batch of strings: spawning is the slow part here.
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: meta, maxLength: 24 }), { minLength: 1, maxLength: 30 }),
        (args) => {
          const out = execFileSync('/bin/sh', ['-c', `printf '%s\\0' ${args.map(shellQuote).join(' ')}`], {
            encoding: 'utf8',
          });
          expect(out.split('\0').slice(0, -1)).toEqual(args);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('shellCommand keeps argument boundaries', () => {
    const argv = ['a b', "c'd", '', '$x'];
    const out = execFileSync(
      '/bin/sh',
      ['-c', `for a in ${shellCommand(argv)}; do printf '[%s]' "$a"; done`],
      {
        encoding: 'utf8',
      },
    );
    expect(out).toBe("[a b][c'd][][$x]");
  });
});

describe('host keys and fingerprints', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sosh-unit-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(['ed25519', 'rsa', 'ecdsa'])('matches ssh-keygen -l for a %s key', (type) => {
    const file = join(dir, `k_${type}`);
    execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', file]);
    const pub = readFileSync(`${file}.pub`, 'utf8');
    const [keyType, b64] = pub.split(' ');
    const key = parseHostKey(`${keyType} ${b64}`);
    const expected = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${file}.pub`], {
      encoding: 'utf8',
    }).split(' ')[1];
    expect(fingerprint(key.blob)).toBe(expected);
    expect(fingerprint(key.blob)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(key.type).toBe(keyType);
  });

  it('accepts a trailing comment and rejects a key whose data is of another type', () => {
    const file = join(dir, 'k_comment');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'root@db1', '-f', file]);
    const pub = readFileSync(`${file}.pub`, 'utf8');
    expect(parseHostKey(pub).type).toBe('ssh-ed25519');
    const b64 = pub.split(' ')[1];
    expect(() => parseHostKey(`ssh-rsa ${b64}`)).toThrow(/says ssh-rsa but its data is a ssh-ed25519 key/);
    expect(() => parseHostKey('ssh-ed25519')).toThrow(/TYPE BASE64/);
  });
});

/**
 * A local /bin/sh behind the few members of an ssh2 channel the shell session uses: the framing,
 * exit statuses and failure handling are sh's real behaviour, only the transport is a pipe.
 */
class LocalChannel extends EventEmitter {
  readonly child: ChildProcessWithoutNullStreams;
  readonly stderr: Readable;
  constructor() {
    super();
    // A process group of its own, so close() also ends what a timed-out command left running.
    this.child = spawn('/bin/sh', [], { stdio: 'pipe', detached: true });
    this.stderr = this.child.stderr;
    this.child.stdout.on('data', (d: Buffer) => this.emit('data', d));
    this.child.on('close', () => this.emit('close'));
  }
  write(s: string): boolean {
    return this.child.stdin.write(s);
  }
  close(): void {
    try {
      process.kill(-this.child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

describe('the persistent shell session', () => {
  let channel: LocalChannel;
  let shell: Shell;
  beforeEach(async () => {
    channel = new LocalChannel();
    shell = new Shell(channel as unknown as ClientChannel);
    await shell.ready(5000);
  });
  afterEach(() => shell.close());

  const run = (command: string, timeoutMs = 5000, maxOutputBytes = 1 << 20) => {
    const p = shell.tryRun(command, timeoutMs, maxOutputBytes);
    if (!p) throw new Error('shell busy');
    return p;
  };

  it('runs many commands one after the other in the same sh, each with its own output and status', async () => {
    const pids = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const r = await run(`echo $$; echo "n=${i}" >&2; exit ${i % 4}`);
      pids.add(r.stdout.trim());
      expect(r).toMatchObject({ code: i % 4, stderr: `n=${i}\n`, truncated: false });
    }
    expect(pids.size).toBe(1); // $$ in a subshell is the session's sh: one process served all
    expect([...pids][0]).toBe(String(channel.child.pid));
  });

  it('returns output without a final newline, and output that looks like a marker, unchanged', async () => {
    expect((await run("printf 'no newline'")).stdout).toBe('no newline');
    const fake = "printf '\\036successover:0123456789abcdef01234567:0\\n'";
    const r = await run(`${fake}; ${fake} >&2; printf 'after'; exit 5`);
    expect(r).toEqual({
      code: 5,
      stdout: '\x1esuccessover:0123456789abcdef01234567:0\nafter',
      stderr: '\x1esuccessover:0123456789abcdef01234567:0\n',
      truncated: false,
    });
  });

  it('keeps the session when a command exits, fails to parse, changes directory or reads stdin', async () => {
    expect((await run('exit 7')).code).toBe(7);
    const bad = await run('echo (');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/syntax error/i);
    await run('cd /tmp; X=1');
    expect((await run('pwd; echo "X=$X"')).stdout).toBe(`${process.cwd()}\nX=\n`);
    expect(await run('cat; echo read-eof')).toMatchObject({ code: 0, stdout: 'read-eof\n' });
    expect(await run("printf '%s' \"it's\" '$(id)'")).toMatchObject({ stdout: "it's$(id)" });
  });

  it('reports a command killed by a signal as 128+N', async () => {
    expect((await run("sh -c 'kill -9 $$'")).code).toBe(137);
  });

  it('keeps the first bytes of a large output and still finds the end', async () => {
    const r = await run("head -c 3000000 /dev/zero | tr '\\0' a; echo done >&2", 5000, 1000);
    expect(r).toEqual({ code: 0, stdout: 'a'.repeat(1000), stderr: 'done\n', truncated: true });
    expect((await run('echo next')).stdout).toBe('next\n');
  });

  it('is busy while a command runs: a second caller is told at once instead of queueing', async () => {
    const first = run('sleep 0.3; echo first');
    expect(shell.tryRun('echo second', 5000, 1000)).toBeUndefined();
    expect((await first).stdout).toBe('first\n');
    expect((await run('echo second')).stdout).toBe('second\n');
  });

  it('fails as lost when sh dies under a command, and refuses new commands afterwards', async () => {
    await expect(run('kill -9 $$')).rejects.toBeInstanceOf(ShellLost);
    expect(shell.closed).toBe(true);
    expect(shell.tryRun('true', 1000, 10)).toBeUndefined();
  });

  it('times out a command that does not finish and closes the session', async () => {
    const t = Date.now();
    await expect(run('sleep 5', 300)).rejects.toBeInstanceOf(ShellTimeout);
    expect(Date.now() - t).toBeLessThan(3000);
    expect(shell.closed).toBe(true);
  });
});
