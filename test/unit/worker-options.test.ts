// The worker's command-line values: a bad one is refused with the flag and the value it got.
import { parsePort, parseSeconds } from '../../worker/main';

test('--shutdown-grace takes seconds from 0 to 3600, fractions too', () => {
  expect(parseSeconds('0', '--shutdown-grace')).toBe(0);
  expect(parseSeconds('2.5', '--shutdown-grace')).toBe(2.5);
  expect(parseSeconds('3600', '--shutdown-grace')).toBe(3600);
  for (const bad of ['', ' ', '-1', '3601', 'ten', '1e9', 'NaN'])
    expect(() => parseSeconds(bad, '--shutdown-grace')).toThrow(
      `--shutdown-grace: expected seconds from 0 to 3600, got "${bad}"`,
    );
});

test('--metrics-port takes a port number', () => {
  expect(parsePort('0', '--metrics-port')).toBe(0);
  expect(parsePort('9464', '--metrics-port')).toBe(9464);
  for (const bad of ['65536', '-1', 'http', '94.6'])
    expect(() => parsePort(bad, '--metrics-port')).toThrow(
      `--metrics-port: expected a port number, got "${bad}"`,
    );
});
