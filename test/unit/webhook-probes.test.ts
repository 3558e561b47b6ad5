// The holes a probe of the receiver found (issue 15, item 7), one describe each: lookups that
// reached inherited properties, an alert name found anywhere in a title, checks that ran before
// authentication or refused unlogged, and joins reported as starts. Replays: webhook-replay.test.ts.
import { checkGrafana } from '../../webhook/auth';
import {
  alertmanagerBody,
  BEARER,
  capturingLogger,
  hmacHex,
  outcomeCount,
  PD_SECRET,
  pagerDutyBody,
  receiver,
  TOKEN,
  type FakeReceiver,
} from './webhook.fixtures';

const JSON_TYPE = { 'content-type': 'application/json' };
const BUILT_INS = ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf'];

let r: FakeReceiver;
afterEach(() => r.close());

const pdSigned = (body: string) => ({
  ...JSON_TYPE,
  'x-pagerduty-signature': `v1=${hmacHex(PD_SECRET, body)}`,
});
const pagerDuty = (webhook: Record<string, unknown> = {}) =>
  receiver({
    webhook: { pagerduty: { secretEnv: 'PD', services: { PSVC001: 'main' }, ...webhook } },
    secrets: { pagerduty: PD_SECRET },
  });
const postPagerDuty = (body: string) => r.request('POST', '/alerts/pagerduty', body, pdSigned(body));

describe('configuration maps are read for their own entries only', () => {
  test.each(BUILT_INS)('a PagerDuty service id and name %s: the title names the cluster', async (name) => {
    r = pagerDuty();
    const body = pagerDutyBody('incident.triggered', {
      title: 'MySQLPrimaryDown cluster=reporting',
      serviceId: name,
      serviceName: name,
    });
    const res = await postPagerDuty(body);
    expect({ status: res.statusCode, body: res.json() }).toMatchObject({
      status: 202,
      body: { cluster: 'reporting', started: true },
    });
  });

  test.each(BUILT_INS)(
    'a PagerDuty service %s, no cluster in the title: 422 saying how to map it',
    async (name) => {
      r = pagerDuty();
      const body = pagerDutyBody('incident.triggered', { serviceId: name, serviceName: name });
      const res = await postPagerDuty(body);
      expect(res.statusCode).toBe(422);
      expect(res.json().error).toContain('map its service in webhook.pagerduty.services');
    },
  );

  test('a service mapped under a built-in name is found', async () => {
    r = pagerDuty({ services: { constructor: 'reporting' } });
    const body = pagerDutyBody('incident.triggered', { serviceId: 'PX', serviceName: 'constructor' });
    expect((await postPagerDuty(body)).json()).toMatchObject({ cluster: 'reporting' });
  });

  test('a cluster or primary label named like a built-in is read from the alert only', async () => {
    r = receiver({ webhook: { tokenEnv: 'T', clusterLabel: 'constructor', primaryLabels: ['toString'] } });
    const post = (labels: Record<string, string>) =>
      r.request('POST', '/alerts/alertmanager', alertmanagerBody([{ name: 'MySQLPrimaryDown', labels }]), {
        ...JSON_TYPE,
        ...BEARER,
      });
    const missing = await post({ cluster: 'main' });
    expect(missing.statusCode).toBe(422);
    expect(missing.json().error).toContain('names no cluster: add the label "constructor"');
    const given = await post({ constructor: 'main' });
    expect(given.statusCode).toBe(202);
    expect(r.calls).toEqual([expect.not.objectContaining({ primary: expect.anything() })]);
  });

  test('a signature header configured with a built-in name is read from the request only', () => {
    const cfg = { secret: 's', header: 'constructor', timestampHeader: '__proto__', maxSkewSeconds: 300 };
    expect(checkGrafana({}, Buffer.from('{}'), cfg)).toEqual({
      ok: false,
      message: "missing constructor header: set the contact point's HMAC signature",
    });
    const signed = { constructor: hmacHex('s', '{}') };
    expect(checkGrafana(signed, Buffer.from('{}'), cfg)).toMatchObject({
      ok: false,
      message: 'missing or malformed __proto__ header: expected Unix seconds',
    });
  });
});

describe('the alert name is where the sender puts it', () => {
  test.each([
    [
      'MySQLReplicationLag on db3 cluster=main (this is not MySQLPrimaryDown)',
      'MySQLReplicationLag is recorded only',
    ],
    [
      'MySQLReplicationLag on db3 cluster=lab (this is not MySQLPrimaryDown)',
      'MySQLReplicationLag is recorded only',
    ],
    ['Disk full on db1 cluster=main, not MySQLPrimaryDown', 'is not a primary failure'],
    ['[FIRING:1] HighCPU (MySQLPrimaryDown main)', 'is not a primary failure'],
    ['MySQLPrimaryDownSoon cluster=main', 'is not a primary failure'],
  ])('a PagerDuty title that only mentions a primary-down name starts nothing: %s', async (title, reason) => {
    r = pagerDuty();
    const res = await postPagerDuty(pagerDutyBody('incident.triggered', { title }));
    expect(res.statusCode).toBe(200);
    expect(res.json().ignored).toContain(reason);
    expect(r.calls).toHaveLength(0);
  });

  test.each([
    '[FIRING:1] MySQLPrimaryDown (main critical)',
    'MySQLPrimaryDown cluster=main',
    'MySQLPrimaryDown: db1 does not answer',
    '  [FIRING:3] MySQLPrimaryDown',
  ])("the title's leading alert name starts the run: %s", async (title) => {
    r = pagerDuty();
    const res = await postPagerDuty(pagerDutyBody('incident.triggered', { title }));
    expect(res.statusCode).toBe(202);
    expect(r.calls[0].source?.alert?.name).toBe('MySQLPrimaryDown');
  });

  test('webhook.pagerduty.alertNameField: the name is that field of the incident, whatever the title', async () => {
    r = pagerDuty({ alertNameField: 'incident_key' });
    const named = pagerDutyBody('incident.triggered', {
      title: 'db1 is gone',
      incidentKey: 'MySQLPrimaryDown',
    });
    expect((await postPagerDuty(named)).statusCode).toBe(202);
    const titled = pagerDutyBody('incident.triggered', { incidentKey: 'main/db1' });
    const res = await postPagerDuty(titled);
    expect(res.statusCode).toBe(200);
    expect(res.json().ignored).toBe('main/db1 is not a primary failure (webhook.primaryDownAlerts)');
    expect(r.calls).toHaveLength(1);
  });
});

describe('authentication first; every refusal logged and counted', () => {
  const post = (body: string, headers: Record<string, string>) =>
    r.request('POST', '/alerts/alertmanager', body, headers);
  const primaryDown = alertmanagerBody([{ name: 'MySQLPrimaryDown', labels: { cluster: 'main' } }]);

  test.each([
    ['an empty Content-Type', { 'content-type': '' }],
    ['a malformed Content-Type', { 'content-type': 'json;;=' }],
    ['no Content-Type', {}],
  ])('%s without a token: 401', async (_what, headers) => {
    r = receiver();
    const res = await post(primaryDown, headers);
    expect(res.statusCode).toBe(401);
    expect(res.json().error).toContain('missing Authorization header');
  });

  test.each([
    ['an empty Content-Type', { 'content-type': '' }],
    ['a malformed Content-Type', { 'content-type': 'json;;=' }],
    ['text/plain', { 'content-type': 'text/plain' }],
  ])('%s with the token: the body is read as JSON all the same', async (_what, headers) => {
    r = receiver();
    expect((await post(primaryDown, { ...headers, ...BEARER })).statusCode).toBe(202);
  });

  test('a body over the limit without a token: 401, not 413, the body unread', async () => {
    r = receiver();
    const res = await post(`{"padding":"${'x'.repeat(1024 * 1024)}"}`, JSON_TYPE);
    expect(res.statusCode).toBe(401);
  });

  test('a signed route: an empty Content-Type without a signature is a 401', async () => {
    r = pagerDuty();
    const res = await r.request('POST', '/alerts/pagerduty', pagerDutyBody('incident.triggered'), {
      'content-type': '',
    });
    expect(res.statusCode).toBe(401);
    expect(res.json().error).toBe('missing X-PagerDuty-Signature header');
  });

  test.each([
    ['no token', 401, 'unauthorized', () => post(primaryDown, { 'content-type': '' })],
    ['not JSON', 400, 'bad-request', () => post('{', { ...JSON_TYPE, ...BEARER })],
    [
      'an unknown cluster',
      404,
      'not-found',
      () =>
        post(alertmanagerBody([{ name: 'MySQLPrimaryDown', labels: { cluster: 'x' } }]), {
          ...JSON_TYPE,
          ...BEARER,
        }),
    ],
    ['no such route', 404, 'not-found', () => r.request('POST', '/alerts/nagios', '{}', { ...BEARER })],
    ['no such route, GET', 404, 'not-found', () => r.request('GET', '/alerts', undefined, {})],
    [
      'a body over the limit',
      413,
      'too-large',
      () => post(`{"padding":"${'x'.repeat(4096)}"}`, { ...JSON_TYPE, ...BEARER }),
    ],
    [
      'no cluster label',
      422,
      'unusable',
      () => post(alertmanagerBody([{ name: 'MySQLPrimaryDown' }]), { ...JSON_TYPE, ...BEARER }),
    ],
  ])('%s: %d, logged and counted as %s', async (_what, status, outcome, send) => {
    const { logger, lines } = capturingLogger();
    r = receiver({ webhook: { tokenEnv: 'T', bodyLimitBytes: 1024 }, logger });
    const before = await outcomeCount(r, outcome);
    const res = await send();
    expect(res.statusCode).toBe(status);
    expect(lines.filter((l) => l.msg === 'request refused')).toEqual([
      expect.objectContaining({ status, reason: res.json().error }),
    ]);
    expect(JSON.stringify(lines)).not.toContain(TOKEN);
    expect(await outcomeCount(r, outcome)).toBe(before + 1);
  });
});

describe('a join is told from a start', () => {
  test('50 identical alerts at once: one says started, 49 say joined; the metrics agree', async () => {
    // Like startEmergencyRecovery: describe, then start with "use existing". Concurrent alerts all
    // describe before the first start lands, so each would say "started" on its own.
    const running = new Map<string, string>();
    r = receiver({
      start: async (input) => {
        const workflowId = `emergency-recovery/${input.cluster}`;
        const before = running.get(workflowId) ?? null;
        await new Promise((res) => setTimeout(res, 5));
        const runId = running.get(workflowId) ?? `run-${running.size + 1}`;
        running.set(workflowId, runId);
        return { workflowId, runId, started: before !== runId };
      },
    });
    const [started, joined] = [await outcomeCount(r, 'started'), await outcomeCount(r, 'joined')];
    const body = alertmanagerBody([{ name: 'MySQLPrimaryDown', labels: { cluster: 'main' } }]);
    const answers = await Promise.all(
      Array.from({ length: 50 }, () =>
        r.request('POST', '/alerts/alertmanager', body, { ...JSON_TYPE, ...BEARER }).then((x) => x.json()),
      ),
    );
    expect(r.calls).toHaveLength(50);
    expect(answers.filter((a) => a.started === true)).toHaveLength(1);
    expect(answers.filter((a) => a.started === false && a.joined === true)).toHaveLength(49);
    expect(new Set(answers.map((a) => a.runId))).toEqual(new Set(['run-1']));
    expect(await outcomeCount(r, 'started')).toBe(started + 1);
    expect(await outcomeCount(r, 'joined')).toBe(joined + 49);
  });

  test('a second run of the cluster, after the first ended, is a start again', async () => {
    let n = 0;
    r = receiver({
      start: async () => ({ workflowId: 'emergency-recovery/main', runId: `run-${++n}`, started: true }),
    });
    const body = alertmanagerBody([{ name: 'MySQLPrimaryDown', labels: { cluster: 'main' } }]);
    const send = async () =>
      (await r.request('POST', '/alerts/alertmanager', body, { ...JSON_TYPE, ...BEARER })).json();
    expect(await send()).toMatchObject({ runId: 'run-1', started: true, joined: false });
    expect(await send()).toMatchObject({ runId: 'run-2', started: true, joined: false });
  });
});
