// When the fence may leave the writer traffic on an old primary, and when a fence holds.
import { fenceHeld, trafficMayWait, type FenceOutcome } from '../../domain/emergency/fence';

const done: FenceOutcome = { status: 'done', detail: '' };
const failed: FenceOutcome = { status: 'failed', detail: '' };
const skipped: FenceOutcome = { status: 'skipped', detail: '' };
const deferred: FenceOutcome = { status: 'deferred', detail: '' };

describe('trafficMayWait', () => {
  test('a mysqld that refuses, read-only at its next start: the traffic may wait', () => {
    expect(trafficMayWait({ mysqldRefused: true, optionFile: done })).toBe(true);
  });
  test('a host that does not answer (partition, power off) may run a writable mysqld: taken off now', () => {
    expect(trafficMayWait({ mysqldRefused: false, optionFile: done })).toBe(false);
  });
  test('a mysqld down with read_only not in its option file would start writable: taken off now', () => {
    for (const optionFile of [failed, skipped, deferred, undefined])
      expect(trafficMayWait({ mysqldRefused: true, optionFile })).toBe(false);
  });
});

describe('fenceHeld', () => {
  const none = { readOnly: failed, traffic: failed, command: skipped };
  test('any of read_only, traffic and command done holds', () => {
    expect(fenceHeld(none)).toBe(false);
    expect(fenceHeld({ ...none, readOnly: done })).toBe(true);
    expect(fenceHeld({ ...none, traffic: done })).toBe(true);
    expect(fenceHeld({ ...none, command: done })).toBe(true);
  });
  test('a deferred traffic move holds with the option file that allowed it, not alone', () => {
    expect(fenceHeld({ ...none, traffic: deferred, optionFile: done })).toBe(true);
    expect(fenceHeld({ ...none, traffic: deferred, optionFile: failed })).toBe(false);
    expect(fenceHeld({ ...none, traffic: deferred })).toBe(false);
    // The option file alone is no fence: a mysqld that answers nobody may still be writable.
    expect(fenceHeld({ ...none, optionFile: done })).toBe(false);
  });
});
