import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSalvage, type SalvageRunner } from '../../activities/salvage';
import type { ExecOptions, ExecResult } from '../../activities/ssh';
import type { Host } from '../../domain/inventory';

const fixture = (name: string) => readFileSync(join(__dirname, '../fixtures/salvage', name), 'utf8');
const host = { name: 'db1', address: '10.0.0.11', port: 3306 } as Host;
const U = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
const V = '4a2b0c11-8d1e-11ee-8c90-0242ac120002';
const FILES = ['/var/lib/mysql/bin.000001', '/var/lib/mysql/bin.000002', '/var/lib/mysql/bin.000003'];

const done = (stdout: string, code = 0, stderr = '', truncated = false): ExecResult => ({
  code,
  signal: null,
  stdout,
  stderr,
  truncated,
});

/** Answers by command; records what ran and with which options. */
function runner(answer: (command: string) => ExecResult | Error) {
  const ran: { command: string; options?: ExecOptions }[] = [];
  const r: SalvageRunner = {
    async exec(_h, command, options) {
      ran.push({ command, options });
      const a = answer(command);
      if (a instanceof Error) throw a;
      return a;
    },
  };
  return { r, ran, commands: () => ran.map((x) => x.command.replace(/^timeout -k 1 \d+ /, '')) };
}
const filesOf = (command: string) => command.split(' -- ')[1]?.split(' ').length ?? 0;
const input = (startPosition: string, extra = {}) => ({
  host,
  flavor: 'mariadb' as const,
  datadir: '/var/lib/mysql',
  binlogBasename: '/var/lib/mysql/bin',
  startPosition,
  deadlineSeconds: 30,
  ...extra,
});

describe('readSalvage', () => {
  it('reads the newest file alone when it reaches back to the position, bounded by the deadline', async () => {
    const { r, ran, commands } = runner((c) =>
      c.includes('cat --')
        ? done(FILES.join('\n') + '\n')
        : done(fixture('mariadb-10.11-torn.txt'), 0, fixture('mariadb-10.11-torn.stderr.txt')),
    );
    const read = await readSalvage(r, input('0-1-17,1-1-1'));
    expect(commands()).toEqual([
      'cat -- /var/lib/mysql/bin.index',
      'mariadb-binlog --no-defaults --skip-gtid-strict-mode --base64-output=auto --start-position=0-1-17,1-1-1 -- /var/lib/mysql/bin.000003',
    ]);
    expect(ran[1].command).toMatch(/^timeout -k 1 (2[0-9]) mariadb-binlog/);
    // The index through the host's open shell; the tool's output on a channel of its own.
    expect(ran[0].options).toMatchObject({ ownChannel: false });
    expect(ran[1].options).toMatchObject({ ownChannel: true, maxOutputBytes: 256 * 1024 * 1024 });
    expect(ran[1].options?.timeoutMs).toBeLessThanOrEqual(30_000);
    if (!read.ok) throw new Error(read.message);
    expect(read).toMatchObject({ files: [FILES[2]], filesInIndex: 3, outcome: 'complete', torn: true });
    expect([read.parsed.complete, read.parsed.cut]).toEqual([4, 1]);
  });

  it('takes twice as many older files while the files read start after the position', async () => {
    const { r, commands } = runner((c) => {
      if (c.includes('cat --')) return done(FILES.join('\n'));
      if (filesOf(c) < 3) return done('', 1, fixture('mariadb-10.11-missing-history.stderr.txt'));
      return done(fixture('mariadb-10.11-from-0-1-4.txt'));
    });
    const read = await readSalvage(r, input('0-1-4'));
    expect(commands().slice(1).map(filesOf)).toEqual([1, 2, 3]);
    expect(read).toMatchObject({ ok: true, files: FILES, outcome: 'complete' });
  });

  it('fails as missing history when even the oldest file starts after the position', async () => {
    const { r } = runner((c) =>
      c.includes('cat --')
        ? done(FILES[2])
        : done('', 1, fixture('mariadb-10.11-missing-history.stderr.txt')),
    );
    const read = await readSalvage(r, input('0-1-4'));
    expect(read).toMatchObject({
      ok: false,
      failure: 'missing-history',
      message: expect.stringMatching(/^db1: /),
    });
  });

  it('MySQL: decides from Previous-GTIDs, since mysqlbinlog does not check', async () => {
    const whole = fixture('mysql-8.0-handwritten.txt');
    const second = `DELIMITER /*!*/;\n${whole.slice(whole.indexOf('# at 4\n#261201 10:00:05'))}`;
    const { r, commands } = runner((c) =>
      c.includes('cat --')
        ? done('./binlog.000001\n./binlog.000002\n')
        : done(filesOf(c) === 1 ? second : whole),
    );
    const read = await readSalvage(r, {
      ...input(`${U}:1-100,${V}:1-7`),
      flavor: 'mysql',
      binlogBasename: '/var/lib/mysql/binlog',
    });
    expect(commands()[2]).toBe(
      `mysqlbinlog --no-defaults --base64-output=AUTO --exclude-gtids=${U}:1-100,${V}:1-7 -- /var/lib/mysql/binlog.000001 /var/lib/mysql/binlog.000002`,
    );
    expect(read.ok && read.parsed.complete).toBe(6);
  });

  it('finds the index when the basename is not known', async () => {
    const { r, commands } = runner((c) => {
      if (c.includes(' find '))
        return done('/var/lib/mysql/db1-relay-bin.index\n/var/lib/mysql/mysql-bin.index\n');
      if (c.includes('cat --')) return done('./mysql-bin.000001\n');
      return done(fixture('mariadb-10.11-caught-up.txt'), 0, fixture('mariadb-10.11-caught-up.stderr.txt'));
    });
    const read = await readSalvage(r, input('0-1-22,1-1-1', { binlogBasename: null }));
    expect(commands().slice(0, 2)).toEqual([
      "find /var/lib/mysql -maxdepth 1 -type f -name '*.index'",
      'cat -- /var/lib/mysql/mysql-bin.index',
    ]);
    expect(read).toMatchObject({
      ok: true,
      files: ['/var/lib/mysql/mysql-bin.000001'],
      messages: [expect.any(String), expect.any(String)],
    });
    const two = runner(() => done('/d/a-bin.index\n/d/b-bin.index\n'));
    expect(await readSalvage(two.r, input('', { binlogBasename: null }))).toMatchObject({
      failure: 'no-index',
    });
  });

  it('keeps what a read stopped at its deadline printed, and says so', async () => {
    const text = fixture('mariadb-10.11-from-0-1-4.txt');
    const { r } = runner((c) =>
      c.includes('cat --')
        ? done(FILES.join('\n'))
        : done(text.slice(0, text.indexOf('GTID 0-1-9')), 124, '', true),
    );
    const read = await readSalvage(r, input('0-1-4'));
    if (!read.ok) throw new Error(read.message);
    expect(read).toMatchObject({ outcome: 'partial', outputTruncated: true, files: [FILES[2]] });
    expect(read.messages).toEqual(['stopped at the deadline (30 s)']);
    expect(read.parsed.transactions.map((t) => t.gtid)).toEqual(['0-1-5', '0-1-6', '0-1-7', '0-1-8']);
  });

  it('fails without reading when the host or the files cannot be read, or no time is left', async () => {
    const down = runner(() => new Error('ssh db1: connect ETIMEDOUT'));
    expect(await readSalvage(down.r, input('0-1-4'))).toMatchObject({ failure: 'unreachable' });
    const junk = runner((c) =>
      c.includes('cat --') ? done(FILES[0]) : done('', 1, fixture('mariadb-10.11-not-a-binlog.stderr.txt')),
    );
    expect(await readSalvage(junk.r, input('0-1-4'))).toMatchObject({
      failure: 'unreadable',
      messages: ['ERROR: File is not a binary log file.'],
    });
    const noIndex = runner(() => done('', 1, 'cat: /var/lib/mysql/bin.index: No such file or directory'));
    expect(await readSalvage(noIndex.r, input('0-1-4'))).toMatchObject({ failure: 'no-index' });
    const late = runner(() => done(''));
    expect(await readSalvage(late.r, input('0-1-4', { deadlineSeconds: 0.5 }))).toMatchObject({
      failure: 'deadline',
    });
    expect(late.ran).toEqual([]);
  });
});
