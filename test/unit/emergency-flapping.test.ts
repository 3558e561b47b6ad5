import { checkFlapping } from '../../domain/emergency';

const END = '2026-11-23T12:00:00.000Z';
const endMs = Date.parse(END);
const check = (more = {}) =>
  checkFlapping({
    cluster: 'r2d2',
    lastRecoveryEnd: END,
    now: endMs + 600_000,
    recoveryBlockSeconds: 3600,
    ackFlapping: false,
    ...more,
  });

describe('anti-flapping', () => {
  test('inside the window: refused, naming when it ends and how to override', () => {
    expect(check()).toEqual({
      allowed: false,
      reason:
        'a recovery of r2d2 ended at 2026-11-23T12:00:00.000Z; the next is blocked until 2026-11-23T13:00:00.000Z: acknowledge with --ack-flapping',
      blockedUntil: '2026-11-23T13:00:00.000Z',
    });
  });

  test('acknowledged: allowed, with a note for the timeline', () => {
    expect(check({ ackFlapping: true })).toEqual({
      allowed: true,
      note: 'a recovery of r2d2 ended at 2026-11-23T12:00:00.000Z, inside the 3600 s block window (until 2026-11-23T13:00:00.000Z); acknowledged',
    });
  });

  test('the window ends exactly at end + recoveryBlockSeconds', () => {
    expect(check({ now: endMs + 3_599_999 }).allowed).toBe(false);
    expect(check({ now: endMs + 3_600_000 })).toEqual({ allowed: true });
  });

  test('end and now as epoch ms or ISO text alike', () => {
    expect(check({ lastRecoveryEnd: endMs, now: '2026-11-23T12:30:00Z' }).allowed).toBe(false);
    expect(check({ lastRecoveryEnd: endMs, now: '2026-11-23T13:30:00Z' }).allowed).toBe(true);
  });

  test('no previous recovery, or a window of 0: allowed', () => {
    expect(check({ lastRecoveryEnd: null })).toEqual({ allowed: true });
    expect(check({ lastRecoveryEnd: undefined })).toEqual({ allowed: true });
    expect(check({ recoveryBlockSeconds: 0, now: endMs })).toEqual({ allowed: true });
  });

  test('a recovery that ended "in the future" (clock skew) still blocks', () => {
    expect(check({ now: endMs - 60_000 }).allowed).toBe(false);
  });

  test('an unreadable end time blocks unless acknowledged; an unreadable now is a bug', () => {
    expect(check({ lastRecoveryEnd: 'yesterday' })).toEqual({
      allowed: false,
      reason:
        'the end of the last recovery of r2d2 is unreadable ("yesterday"): acknowledge with --ack-flapping',
      blockedUntil: 'unknown',
    });
    expect(check({ lastRecoveryEnd: 'yesterday', ackFlapping: true }).allowed).toBe(true);
    expect(() => check({ now: 'soon' })).toThrow('unreadable current time "soon"');
  });
});
