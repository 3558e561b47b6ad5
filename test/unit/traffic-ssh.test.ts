// shellQuote, host key parsing and fingerprints: checked against the real /bin/sh and ssh-keygen.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { fingerprint, parseHostKey, shellCommand, shellQuote } from '../../activities/ssh';

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
