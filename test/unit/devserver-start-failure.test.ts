// Why the dev server died while starting, from its log: the reason first, then the tail.
import { startFailure } from '../../temporal/devserver';

const trace = Array.from(
  { length: 30 },
  (_, i) => `\tgithub.com/x/y.f${i}(...)\n\t\t/src/y.go:${i} +0x1`,
).join('\n');

test("a Go panic's message leads, above the stack trace's last lines", () => {
  const log = `CLI 1.5.1\npanic: listen tcp 127.0.0.1:41234: bind: address already in use\n\ngoroutine 1 [running]:\n${trace}\n`;
  const out = startFailure(log).split('\n');
  expect(out[0]).toBe('panic: listen tcp 127.0.0.1:41234: bind: address already in use');
  expect(out[1]).toBe('...');
  expect(out.slice(2)).toEqual(log.trimEnd().split('\n').slice(-15));
});

test('a short log is returned whole, with nothing repeated', () => {
  const log = 'Error: failed starting server: unknown flag\nusage: ...\n';
  expect(startFailure(log)).toBe('Error: failed starting server: unknown flag\nusage: ...');
});

test('a long log without a reason line is its tail', () => {
  const log = Array.from({ length: 40 }, (_, i) => `line ${i}`).join('\n');
  expect(startFailure(log)).toBe(Array.from({ length: 15 }, (_, i) => `line ${25 + i}`).join('\n'));
});
