import {
  chooseMethod,
  DEFAULT_PROVISION_POLICY,
  formatBytes,
  formatCatchUp,
  formatCopyProgress,
  formatCopyResult,
  formatDuration,
  formatGtidDistance,
  formatLag,
  formatRate,
  GiB,
  mbPerSecond,
  rowsPerSecond,
} from '../../domain/provision';

describe('chooseMethod', () => {
  test('by size: logical under the threshold, physical from it', () => {
    expect(chooseMethod(GiB - 1)).toEqual({
      method: 'logical',
      reason: 'logical: 1.1 GB of data, under the 1.1 GB threshold',
    });
    expect(chooseMethod(GiB)).toMatchObject({ method: 'physical' });
    expect(chooseMethod(0)).toMatchObject({ method: 'logical' });
    expect(DEFAULT_PROVISION_POLICY.physicalThresholdBytes).toBe(GiB);
  });

  test('the threshold is a parameter', () => {
    expect(chooseMethod(10e6, undefined, 5e6)).toEqual({
      method: 'physical',
      reason: 'physical: 10.0 MB of data, at least the 5.0 MB threshold',
    });
  });

  test('what is asked wins over the size', () => {
    expect(chooseMethod(10 * GiB, 'logical')).toEqual({ method: 'logical', reason: 'logical, as asked' });
    expect(chooseMethod(1, 'physical')).toEqual({ method: 'physical', reason: 'physical, as asked' });
  });

  test('a size that is not a number of bytes is a programming error', () => {
    expect(() => chooseMethod(-1)).toThrow('chooseMethod: data size -1: expected a number of bytes >= 0');
    expect(() => chooseMethod(NaN)).toThrow(/expected a number of bytes/);
  });
});

describe('progress formatting', () => {
  test('bytes in decimal units', () => {
    expect([0, 999, 1000, 1234567, 1e9, 2.5e12, -1].map(formatBytes)).toEqual([
      '0 B',
      '999 B',
      '1.0 kB',
      '1.2 MB',
      '1.0 GB',
      '2.5 TB',
      'unknown',
    ]);
  });

  test('rates', () => {
    expect(mbPerSecond(50e6, 2000)).toBe(25);
    expect(mbPerSecond(1e6, 3000)).toBe(0.3);
    expect(mbPerSecond(1e6, 0)).toBeNull();
    expect(formatRate(50e6, 2000)).toBe('25.0 MB/s');
    expect(formatRate(1, 0)).toBe('rate unknown');
    expect(rowsPerSecond(1000, 500)).toBe(2000);
    expect(rowsPerSecond(null, 500)).toBeNull();
    expect(rowsPerSecond(10, 0)).toBeNull();
  });

  test('durations', () => {
    expect([12, 1500, 61_000, 3_725_000].map(formatDuration)).toEqual([
      '12 ms',
      '1.5 s',
      '1 min 1 s',
      '1 h 2 min',
    ]);
  });

  test('copy progress: bytes of the estimate, percent capped below 100, rate', () => {
    expect(formatCopyProgress({ phase: 'stream', bytesCopied: 120e6, totalBytesEstimate: 1e9 }, 8000)).toBe(
      'stream: 120.0 MB of ~1.0 GB (12%), 15.0 MB/s',
    );
    // A dump is text, larger than InnoDB's pages: never "100%" before it ends.
    expect(formatCopyProgress({ phase: 'stream', bytesCopied: 2e9, totalBytesEstimate: 1e9 })).toBe(
      'stream: 2.0 GB of ~1.0 GB (99%)',
    );
    expect(formatCopyProgress({ phase: 'inspect', bytesCopied: 0, totalBytesEstimate: 0 }, 100)).toBe(
      'inspect: 0 B',
    );
  });

  test('catch-up: lag and GTID distance', () => {
    expect(formatLag(null)).toBe('lag unknown');
    expect(formatGtidDistance(1, 'db1')).toBe('1 transaction behind db1');
    expect(formatGtidDistance(0, 'db1')).toBe('has every transaction of db1');
    expect(
      formatCatchUp(
        { ioRunning: 'yes', sqlRunning: true, lastError: null, lagSeconds: 3, gtidDistance: 120 },
        'db1',
      ),
    ).toBe('lag 3 s, 120 transactions behind db1 (IO yes, SQL running)');
    expect(
      formatCatchUp(
        {
          ioRunning: 'connecting',
          sqlRunning: true,
          lastError: 'error reconnecting',
          lagSeconds: null,
          gtidDistance: 5,
        },
        'db1',
      ),
    ).toBe(
      'lag unknown, 5 transactions behind db1 (IO connecting, SQL running); last error: error reconnecting',
    );
  });

  test('the copy result: size, rows, rate and phases', () => {
    expect(
      formatCopyResult({
        method: 'logical',
        bytes: 100e6,
        rows: 200000,
        ms: 4000,
        phases: [
          { name: 'inspect', ms: 120 },
          { name: 'stream', ms: 3700 },
        ],
      }),
    ).toBe(
      'logical copy: 100.0 MB, 200000 rows in 4.0 s (25.0 MB/s, 50000 rows/s); inspect 120 ms, stream 3.7 s',
    );
    expect(formatCopyResult({ method: 'physical', bytes: 2e9, rows: null, ms: 20000, phases: [] })).toBe(
      'physical copy: 2.0 GB in 20.0 s (100.0 MB/s)',
    );
  });
});
