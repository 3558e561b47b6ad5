// Grafana and PagerDuty: HMAC signatures over the raw body, and how their payloads map to runs.
import {
  BEARER,
  GRAFANA_SECRET,
  grafanaBody,
  hmacHex,
  PD_SECRET,
  pagerDutyBody,
  receiver,
  TOKEN,
  type FakeReceiver,
} from './webhook.fixtures';

const JSON_TYPE = { 'content-type': 'application/json' };
const primaryDown = { name: 'MySQLPrimaryDown', labels: { cluster: 'main', instance: 'db2' } };

let r: FakeReceiver;
afterEach(() => r.close());

describe('Grafana', () => {
  const SIG = 'x-grafana-alerting-signature';
  const signed = (body: string, secret = GRAFANA_SECRET) => ({ ...JSON_TYPE, [SIG]: hmacHex(secret, body) });
  const post = (body: string, headers: Record<string, string>) =>
    r.request('POST', '/alerts/grafana', body, headers);

  beforeEach(() => {
    r = receiver({
      webhook: { tokenEnv: 'T', grafana: { secretEnv: 'G' } },
      secrets: { token: TOKEN, grafana: GRAFANA_SECRET },
    });
  });

  test('a signed firing alert starts the recovery, recorded as from grafana', async () => {
    const body = grafanaBody([primaryDown]);
    const res = await post(body, signed(body));
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ workflowId: 'emergency-recovery/main', started: true });
    expect(r.calls).toHaveLength(1);
    expect(r.calls[0]).toMatchObject({
      cluster: 'main',
      primary: 'db2',
      source: { kind: 'webhook', system: 'grafana', alert: { name: 'MySQLPrimaryDown', fingerprint: 'fp0' } },
    });
  });

  test.each([
    ['no signature', () => JSON_TYPE, 'missing X-Grafana-Alerting-Signature header'],
    [
      'a signature with another secret',
      (b: string) => signed(b, 'not-the-secret'),
      'does not match the body',
    ],
    [
      'a signature of another body',
      (b: string) => signed(b.replace('db2', 'db3')),
      'does not match the body',
    ],
    [
      'a signature that is not hex',
      () => ({ ...JSON_TYPE, [SIG]: 'zz'.repeat(32) }),
      'does not match the body',
    ],
    ['the bearer token instead of the signature', () => ({ ...JSON_TYPE, ...BEARER }), 'missing X-Grafana'],
  ])('401 on %s', async (_what, headers, message) => {
    const body = grafanaBody([primaryDown]);
    const res = await post(body, headers(body));
    expect(res.statusCode).toBe(401);
    expect(res.json().error).toContain(message);
    expect(r.calls).toHaveLength(0);
  });

  test('the header Grafana uses when the contact point leaves it empty is accepted too', async () => {
    const body = grafanaBody([primaryDown]);
    const res = await post(body, {
      ...JSON_TYPE,
      'x-grafana-alert-signature': hmacHex(GRAFANA_SECRET, body),
    });
    expect(res.statusCode).toBe(202);
  });

  describe('with a timestamp header', () => {
    const TS = 'x-grafana-alerting-signature-timestamp';
    const at = (body: string, seconds: number, secret = GRAFANA_SECRET) => ({
      ...JSON_TYPE,
      [TS]: String(seconds),
      [SIG]: hmacHex(secret, `${seconds}:${body}`),
    });
    const now = () => Math.floor(Date.now() / 1000);

    beforeEach(() => {
      r = receiver({
        webhook: {
          tokenEnv: 'T',
          grafana: { secretEnv: 'G', timestampHeader: 'X-Grafana-Alerting-Signature-Timestamp' },
        },
        secrets: { token: TOKEN, grafana: GRAFANA_SECRET },
      });
    });

    test('"timestamp:body" signed and recent: accepted', async () => {
      const body = grafanaBody([primaryDown]);
      expect((await post(body, at(body, now()))).statusCode).toBe(202);
    });

    test('a timestamp older than maxSkewSeconds is a replay: 401', async () => {
      const body = grafanaBody([primaryDown]);
      const res = await post(body, at(body, now() - 3600));
      expect(res.statusCode).toBe(401);
      expect(res.json().error).toMatch(
        /is \d+ s from now, more than 300 s \(webhook\.grafana\.maxSkewSeconds\)$/,
      );
      expect(r.calls).toHaveLength(0);
    });

    test('the body alone signed, or the timestamp changed after signing: 401', async () => {
      const body = grafanaBody([primaryDown]);
      expect((await post(body, { ...signed(body), [TS]: String(now()) })).statusCode).toBe(401);
      expect((await post(body, { ...at(body, now() - 10), [TS]: String(now()) })).statusCode).toBe(401);
      expect((await post(body, signed(body))).json().error).toBe(
        'missing or malformed X-Grafana-Alerting-Signature-Timestamp header: expected Unix seconds',
      );
      expect(r.calls).toHaveLength(0);
    });
  });

  test('without a grafana section the bearer token authenticates', async () => {
    r = receiver();
    const body = grafanaBody([primaryDown]);
    expect((await post(body, { ...JSON_TYPE, ...BEARER })).statusCode).toBe(202);
    expect((await post(body, signed(body))).statusCode).toBe(401);
  });

  test('resolved and lag alerts start nothing; a bad payload is a 400', async () => {
    const resolved = grafanaBody([{ ...primaryDown, status: 'resolved' }]);
    expect((await post(resolved, signed(resolved))).json()).toEqual({
      ignored: 'MySQLPrimaryDown is resolved',
    });
    const lag = grafanaBody([{ name: 'MariaDBReplicationLag', labels: { cluster: 'main' } }]);
    expect((await post(lag, signed(lag))).statusCode).toBe(200);
    const bad = JSON.stringify({ alerts: [{ status: 'firing' }] });
    const res = await post(bad, signed(bad));
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatch(/^invalid grafana payload: alerts\[0\]\.labels: /);
    expect(r.calls).toHaveLength(0);
  });
});

describe('PagerDuty', () => {
  const signed = (body: string, secret = PD_SECRET) => ({
    ...JSON_TYPE,
    'x-pagerduty-signature': `v1=${hmacHex(secret, body)}`,
  });
  const post = (body: string, headers: Record<string, string>) =>
    r.request('POST', '/alerts/pagerduty', body, headers);

  beforeEach(() => {
    r = receiver({
      webhook: { tokenEnv: 'T', pagerduty: { secretFile: 'pd.secret', services: { PSVC001: 'main' } } },
      secrets: { token: TOKEN, pagerduty: PD_SECRET },
    });
  });

  test('a triggered incident on a mapped service starts the recovery of its cluster', async () => {
    const body = pagerDutyBody('incident.triggered');
    const res = await post(body, signed(body));
    expect(res.statusCode).toBe(202);
    expect(r.calls).toEqual([
      {
        cluster: 'main',
        probes: 1,
        reason:
          'pagerduty alert MySQLPrimaryDown firing since 2025-06-01T10:00:03Z: [FIRING:1] MySQLPrimaryDown (main critical)',
        source: {
          kind: 'webhook',
          system: 'pagerduty',
          receivedAt: expect.any(String),
          alert: {
            name: 'MySQLPrimaryDown',
            fingerprint: 'Q2P3JAKGLW5JSV',
            startsAt: '2025-06-01T10:00:03Z',
            labels: {
              service: 'MySQL main',
              service_id: 'PSVC001',
              incident_key: 'a1b2c3',
              incident_number: '42',
              urgency: 'high',
              cluster: 'main',
            },
          },
        },
      },
    ]);
  });

  test('one valid signature among several (secret rotation) is enough', async () => {
    const body = pagerDutyBody('incident.triggered');
    const res = await post(body, {
      ...JSON_TYPE,
      'x-pagerduty-signature': `v1=${hmacHex('old-secret', body)},v1=${hmacHex(PD_SECRET, body)}`,
    });
    expect(res.statusCode).toBe(202);
  });

  test.each([
    ['no signature', () => JSON_TYPE, 'missing X-PagerDuty-Signature header'],
    ['a signature with another secret', (b: string) => signed(b, 'nope'), 'does not match the body'],
    [
      'a signature of another body',
      (b: string) => signed(b.replace('high', 'low')),
      'does not match the body',
    ],
    [
      'no v1 signature',
      (b: string) => ({ ...JSON_TYPE, 'x-pagerduty-signature': `v0=${hmacHex(PD_SECRET, b)}` }),
      'has no v1= signature',
    ],
  ])('401 on %s', async (_what, headers, message) => {
    const body = pagerDutyBody('incident.triggered');
    const res = await post(body, headers(body));
    expect(res.statusCode).toBe(401);
    expect(res.json().error).toContain(message);
    expect(r.calls).toHaveLength(0);
  });

  test('the cluster can be written in the title', async () => {
    const body = pagerDutyBody('incident.triggered', {
      title: 'MySQLPrimaryDown cluster=reporting',
      serviceId: 'POTHER',
    });
    expect((await post(body, signed(body))).statusCode).toBe(202);
    expect(r.calls[0].cluster).toBe('reporting');
  });

  test('an incident that names no cluster: 422 saying how to map it', async () => {
    const body = pagerDutyBody('incident.triggered', { serviceId: 'POTHER', serviceName: 'Other' });
    const res = await post(body, signed(body));
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toBe(
      'event: MySQLPrimaryDown names no cluster: map its service in webhook.pagerduty.services, or write cluster=<name> in the incident title',
    );
    expect(r.calls).toHaveLength(0);
  });

  test.each([
    ['pagey.ping', {}, 'a PagerDuty ping'],
    ['incident.resolved', {}, 'MySQLPrimaryDown is resolved'],
    ['incident.acknowledged', {}, 'PagerDuty incident.acknowledged starts nothing'],
    ['incident.triggered', { title: 'Disk full on db1' }, 'Disk full on db1 is not a primary failure'],
    ['incident.triggered', { title: 'MySQLReplicationLag on main' }, 'MySQLReplicationLag is recorded only'],
  ])('%s %j starts nothing', async (type, incident, reason) => {
    const body = pagerDutyBody(type, incident);
    const res = await post(body, signed(body));
    expect(res.statusCode).toBe(200);
    expect(res.json().ignored).toContain(reason);
    expect(r.calls).toHaveLength(0);
  });

  test('a body without an event is a 400', async () => {
    const body = JSON.stringify({ messages: [] });
    const res = await post(body, signed(body));
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatch(/^invalid pagerduty payload: event: /);
  });
});
