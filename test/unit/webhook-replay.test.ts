// Replays of signed requests (issue 15, item 7): a PagerDuty event is accepted once, and only
// while its occurred_at is inside the skew window; an exact Grafana request (same signature) is
// accepted once. A refused or failed delivery is not remembered, so the sender's retry is judged
// afresh. The memory forgets by time and is bounded.
import { ReplayMemory } from '../../webhook/replay';
import {
  capturingLogger,
  GRAFANA_SECRET,
  grafanaBody,
  hmacHex,
  outcomeCount,
  PD_SECRET,
  pagerDutyBody,
  receiver,
  type FakeReceiver,
} from './webhook.fixtures';

const JSON_TYPE = { 'content-type': 'application/json' };
const primaryDown = { name: 'MySQLPrimaryDown', labels: { cluster: 'main' } };

let r: FakeReceiver;
afterEach(() => r.close());

describe('PagerDuty', () => {
  const signed = (body: string) => ({
    ...JSON_TYPE,
    'x-pagerduty-signature': `v1=${hmacHex(PD_SECRET, body)}`,
  });
  const post = (body: string) => r.request('POST', '/alerts/pagerduty', body, signed(body));
  const pagerDuty = (o: Parameters<typeof receiver>[0] = {}, pd: Record<string, unknown> = {}) =>
    receiver({
      webhook: { pagerduty: { secretEnv: 'PD', services: { PSVC001: 'main' }, ...pd } },
      secrets: { pagerduty: PD_SECRET },
      ...o,
    });
  const ago = (s: number) => new Date(Date.now() - s * 1000).toISOString();

  test.each([
    ['an hour old', 3600],
    ['an hour in the future', -3600],
  ])('a signed event %s is refused: 401 naming webhook.pagerduty.maxSkewSeconds', async (_what, s) => {
    r = pagerDuty();
    const res = await post(pagerDutyBody('incident.triggered', { occurredAt: ago(s) }));
    expect(res.statusCode).toBe(401);
    expect(res.json().error).toMatch(
      /^event\.occurred_at is \d+ s from now, more than 300 s \(webhook\.pagerduty\.maxSkewSeconds\): a replay, or the receiver's clock is off$/,
    );
    expect(r.calls).toHaveLength(0);
  });

  test('the window is webhook.pagerduty.maxSkewSeconds', async () => {
    r = pagerDuty({}, { maxSkewSeconds: 7200 });
    expect((await post(pagerDutyBody('incident.triggered', { occurredAt: ago(3600) }))).statusCode).toBe(202);
  });

  test('an event without its id or time cannot be told from a replay: 400', async () => {
    r = pagerDuty();
    const body = JSON.parse(pagerDutyBody('incident.triggered')) as { event: Record<string, unknown> };
    const noId = JSON.stringify({ event: { ...body.event, id: undefined } });
    expect((await post(noId)).json().error).toBe(
      'event.id: missing: a signed PagerDuty event needs its id and occurred_at to be told from a replay',
    );
    const badTime = JSON.stringify({ event: { ...body.event, occurred_at: 'yesterday' } });
    const res = await post(badTime);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('event.occurred_at: "yesterday" is not a time: expected ISO 8601');
  });

  test('the same event twice: the second is a replay (409), logged and counted', async () => {
    const { logger, lines } = capturingLogger();
    r = pagerDuty({ logger });
    const replays = await outcomeCount(r, 'replay');
    const body = pagerDutyBody('incident.triggered', { eventId: 'PEVENT1' });
    expect((await post(body)).statusCode).toBe(202);
    const res = await post(body);
    expect(res.statusCode).toBe(409);
    expect(res.json().error).toMatch(
      /^PagerDuty event PEVENT1 was already received \d+ s ago: a replay starts nothing$/,
    );
    expect(r.calls).toHaveLength(1);
    expect(lines.filter((l) => l.msg === 'request refused')).toEqual([
      expect.objectContaining({ status: 409, reason: res.json().error }),
    ]);
    expect(await outcomeCount(r, 'replay')).toBe(replays + 1);
  });

  test('another event about the same incident joins the run', async () => {
    r = pagerDuty();
    expect((await post(pagerDutyBody('incident.triggered'))).json()).toMatchObject({ started: true });
    expect((await post(pagerDutyBody('incident.triggered'))).json()).toMatchObject({ joined: true });
  });

  test('a delivery that failed (503) is not remembered: the retry is accepted', async () => {
    let up = false;
    r = pagerDuty({
      start: async (input) => {
        if (!up) throw new Error('14 UNAVAILABLE');
        return { workflowId: `emergency-recovery/${input.cluster}`, runId: 'run-1', started: true };
      },
    });
    const body = pagerDutyBody('incident.triggered');
    expect((await post(body)).statusCode).toBe(503);
    up = true;
    expect((await post(body)).statusCode).toBe(202);
  });
});

describe('Grafana', () => {
  const SIG = 'x-grafana-alerting-signature';
  const TS = 'x-grafana-alerting-signature-timestamp';
  const post = (body: string, headers: Record<string, string>) =>
    r.request('POST', '/alerts/grafana', body, headers);
  const now = () => Math.floor(Date.now() / 1000);

  test('with a timestamp header: an exact replay is a 409; the same alert signed anew joins', async () => {
    r = receiver({
      webhook: { grafana: { secretEnv: 'G', timestampHeader: 'X-Grafana-Alerting-Signature-Timestamp' } },
      secrets: { grafana: GRAFANA_SECRET },
    });
    const body = grafanaBody([primaryDown]);
    const at = (s: number) => ({
      ...JSON_TYPE,
      [TS]: String(s),
      [SIG]: hmacHex(GRAFANA_SECRET, `${s}:${body}`),
    });
    const headers = at(now() - 1);
    expect((await post(body, headers)).statusCode).toBe(202);
    const replay = await post(body, headers);
    expect(replay.statusCode).toBe(409);
    expect(replay.json().error).toMatch(
      /^this X-Grafana-Alerting-Signature was already received \d+ s ago: an exact replay starts nothing$/,
    );
    const again = await post(body, at(now()));
    expect(again.json()).toMatchObject({ joined: true });
    expect(r.calls).toHaveLength(2);
  });

  test('without a timestamp header: an exact replay inside maxSkewSeconds is a 409', async () => {
    r = receiver({ webhook: { grafana: { secretEnv: 'G' } }, secrets: { grafana: GRAFANA_SECRET } });
    const body = grafanaBody([primaryDown]);
    const headers = { ...JSON_TYPE, [SIG]: hmacHex(GRAFANA_SECRET, body) };
    expect((await post(body, headers)).statusCode).toBe(202);
    // Upper-case hex is the same signature.
    expect((await post(body, { ...headers, [SIG]: headers[SIG].toUpperCase() })).statusCode).toBe(409);
    expect(r.calls).toHaveLength(1);
  });
});

describe('ReplayMemory', () => {
  let t = 1_000_000;
  const clock = () => t;

  test('a key is a replay until its time, then forgotten', () => {
    const m = new ReplayMemory({ now: clock });
    expect(m.claim('a', t + 10_000)).toMatchObject({ replay: false });
    t += 4_000;
    expect(m.claim('a', t + 10_000)).toEqual({ replay: true, firstAtMs: t - 4_000 });
    t += 6_001;
    expect(m.claim('a', t + 10_000)).toMatchObject({ replay: false });
  });

  test('a released key (the request was not accepted) can be claimed again', () => {
    const m = new ReplayMemory({ now: clock });
    const first = m.claim('a', t + 10_000);
    if (first.replay) throw new Error('expected a claim');
    first.release();
    expect(m.claim('a', t + 10_000)).toMatchObject({ replay: false });
  });

  test('memory is bounded by time: one key a second, a 10 s window, never more than 11 keys', () => {
    const m = new ReplayMemory({ now: clock });
    for (let i = 0; i < 1000; i++) {
      t += 1000;
      m.claim(`k${i}`, t + 10_000);
      expect(m.size).toBeLessThanOrEqual(11);
    }
  });

  test('and by count: the oldest keys go first', () => {
    const m = new ReplayMemory({ now: clock, maxEntries: 100 });
    for (let i = 0; i < 1000; i++) m.claim(`k${i}`, t + 3_600_000);
    expect(m.size).toBe(100);
    expect(m.claim('k999', t + 1)).toMatchObject({ replay: true });
    expect(m.claim('k0', t + 1)).toMatchObject({ replay: false });
  });
});
