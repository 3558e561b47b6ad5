import { InputError } from '../../domain/runbook';
import { alertmanagerBody, BEARER, receiver, TOKEN, type FakeReceiver } from './webhook.fixtures';

const URL = '/alerts/alertmanager';
const primaryDown = (cluster: string, labels: Record<string, string> = {}) => ({
  name: 'MySQLPrimaryDown',
  labels: { cluster, severity: 'critical', ...labels },
  annotations: { summary: `primary of ${cluster} does not answer` },
});

let r: FakeReceiver;
beforeEach(() => {
  r = receiver();
});
afterEach(() => r.close());

const post = (payload: string, headers: Record<string, string> = BEARER) =>
  r.request('POST', URL, payload, { 'content-type': 'application/json', ...headers });

describe('Alertmanager: alerts that start a recovery', () => {
  test('a firing primary-down alert starts the cluster recovery with the alert recorded', async () => {
    const before = Date.now();
    const res = await post(alertmanagerBody([primaryDown('main', { instance: 'db1:9104' })]));
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({
      cluster: 'main',
      workflowId: 'emergency-recovery/main',
      runId: 'run-1',
      started: true,
      joined: false,
    });
    expect(r.calls).toHaveLength(1);
    const input = r.calls[0];
    expect(input).toEqual({
      cluster: 'main',
      primary: 'db1',
      probes: 1,
      reason:
        'alertmanager alert MySQLPrimaryDown firing since 2025-06-01T10:00:00.000Z: primary of main does not answer',
      source: {
        kind: 'webhook',
        system: 'alertmanager',
        receivedAt: expect.any(String),
        alert: {
          name: 'MySQLPrimaryDown',
          fingerprint: 'fp0',
          startsAt: '2025-06-01T10:00:00.000Z',
          labels: {
            alertname: 'MySQLPrimaryDown',
            cluster: 'main',
            severity: 'critical',
            instance: 'db1:9104',
          },
        },
      },
    });
    const at = Date.parse(input.source?.receivedAt ?? '');
    expect(at).toBeGreaterThanOrEqual(before - 1);
    expect(at).toBeLessThanOrEqual(Date.now());
  });

  test('an instance label that is not a host of the cluster names no primary', async () => {
    await post(alertmanagerBody([primaryDown('main', { instance: '10.0.0.11:9104' })]));
    expect(r.calls[0].cluster).toBe('main');
    expect(r.calls[0]).not.toHaveProperty('primary');
  });

  test('a repeated alert joins the run under way', async () => {
    const body = alertmanagerBody([primaryDown('main')]);
    const first = (await post(body)).json();
    const second = await post(body);
    expect(second.statusCode).toBe(202);
    expect(second.json()).toEqual({ ...first, started: false, joined: true });
  });

  test('alerts for two clusters start two runs, and say which alerts started nothing', async () => {
    const res = await post(
      alertmanagerBody([
        primaryDown('main'),
        primaryDown('reporting'),
        { name: 'MySQLPrimaryDown', status: 'resolved', labels: { cluster: 'main' } },
      ]),
    );
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({
      runs: [
        {
          cluster: 'main',
          workflowId: 'emergency-recovery/main',
          runId: 'run-1',
          started: true,
          joined: false,
        },
        {
          cluster: 'reporting',
          workflowId: 'emergency-recovery/reporting',
          runId: 'run-2',
          started: true,
          joined: false,
        },
      ],
      ignored: 'MySQLPrimaryDown is resolved',
    });
    expect(r.calls.map((c) => c.cluster)).toEqual(['main', 'reporting']);
    // Each cluster's policy.alertProbes: the worker's failed probes its recovery asks for.
    expect(r.calls.map((c) => c.probes)).toEqual([1, 3]);
  });

  test('two alerts of one cluster start one run, the second one named in the reason', async () => {
    const res = await post(
      alertmanagerBody([primaryDown('main'), { name: 'MariaDBPrimaryDown', labels: { cluster: 'main' } }]),
    );
    expect(res.statusCode).toBe(202);
    expect(r.calls).toHaveLength(1);
    expect(r.calls[0].reason).toMatch(/\(\+1 more: MariaDBPrimaryDown\)$/);
  });

  test('the cluster label is configurable', async () => {
    r = receiver({ webhook: { tokenEnv: 'T', clusterLabel: 'db_cluster' } });
    const res = await post(
      alertmanagerBody([
        { name: 'MySQLPrimaryDown', labels: { db_cluster: 'reporting', cluster: 'k8s-eu' } },
      ]),
    );
    expect(res.statusCode).toBe(202);
    expect(r.calls[0].cluster).toBe('reporting');
  });
});

describe('Alertmanager: alerts that start nothing (200)', () => {
  test('resolved', async () => {
    const res = await post(alertmanagerBody([{ ...primaryDown('main'), status: 'resolved' }]));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ignored: 'MySQLPrimaryDown is resolved' });
    expect(r.calls).toHaveLength(0);
  });

  test('lag and broken replication are recorded only', async () => {
    const res = await post(
      alertmanagerBody([
        { name: 'MySQLReplicationLag', labels: { cluster: 'main', instance: 'db2:9104' } },
        { name: 'MariaDBReplicationBroken', labels: { cluster: 'main' } },
      ]),
    );
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      ignored: 'MySQLReplicationLag is recorded only; MariaDBReplicationBroken is recorded only',
    });
    expect(r.calls).toHaveLength(0);
  });

  test('an alert the inventory does not map to a primary failure', async () => {
    const res = await post(alertmanagerBody([{ name: 'HighCPU', labels: { cluster: 'main' } }]));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ignored: 'HighCPU is not a primary failure (webhook.primaryDownAlerts)' });
    expect(r.calls).toHaveLength(0);
  });

  test('a resolved or unmapped alert needs no cluster label', async () => {
    const res = await post(
      alertmanagerBody([{ name: 'HighCPU' }, { name: 'MySQLPrimaryDown', status: 'resolved' }]),
    );
    expect(res.statusCode).toBe(200);
    expect(r.calls).toHaveLength(0);
  });
});

describe('Alertmanager: refused requests start nothing', () => {
  test('no cluster label: 422, even when another alert of the payload is usable', async () => {
    const res = await post(alertmanagerBody([primaryDown('main'), { name: 'MySQLPrimaryDown' }]));
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toBe(
      'alerts[1]: MySQLPrimaryDown names no cluster: add the label "cluster" to the alert rule, or set webhook.clusterLabel',
    );
    expect(r.calls).toHaveLength(0);
  });

  test('unknown cluster: 404 naming the clusters of the inventory', async () => {
    const res = await post(alertmanagerBody([primaryDown('nowhere')]));
    expect(res.statusCode).toBe(404);
    expect(res.json().error).toBe('alerts[0]: unknown cluster "nowhere": the inventory has main, reporting');
    expect(r.calls).toHaveLength(0);
  });

  test.each([
    ['no Authorization header', {}, 'missing Authorization header: send "Authorization: Bearer <token>"'],
    ['a wrong token', { authorization: 'Bearer sesame' }, 'wrong bearer token'],
    ['a token one character longer', { authorization: `Bearer ${TOKEN}x` }, 'wrong bearer token'],
    [
      'another scheme',
      { authorization: `Basic ${TOKEN}` },
      'the Authorization header is not "Bearer <token>"',
    ],
  ])('401 on %s', async (_what, headers, message) => {
    const res = await post(alertmanagerBody([primaryDown('main')]), headers);
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ error: message });
    expect(r.calls).toHaveLength(0);
  });

  test('authentication comes before parsing: a malformed body without a token is a 401', async () => {
    const res = await post('{"version":', {});
    expect(res.statusCode).toBe(401);
  });

  test.each([
    ['not JSON', '{"version":"4",', /^the body is not JSON: /],
    ['an empty body', '', /^the body is not JSON: /],
    [
      'another payload version',
      alertmanagerBody([primaryDown('main')]).replace('"4"', '"3"'),
      /^invalid alertmanager payload: version: expected "4"/,
    ],
    [
      'an unknown status',
      alertmanagerBody([primaryDown('main')]).replace(
        '"status":"firing","labels"',
        '"status":"burning","labels"',
      ),
      /alerts\[0\]\.status: /,
    ],
    [
      'a label that is not a string',
      JSON.stringify({
        version: '4',
        status: 'firing',
        alerts: [{ status: 'firing', labels: { cluster: 1 } }],
      }),
      /alerts\[0\]\.labels\.cluster: /,
    ],
    [
      'no alerts',
      JSON.stringify({ version: '4', status: 'firing', alerts: [] }),
      /alerts: expected at least one alert/,
    ],
  ])('400 on %s', async (_what, payload, message) => {
    const res = await post(payload);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatch(message);
    expect(r.calls).toHaveLength(0);
  });

  test('413 on a body over the limit (default 256 KiB), with the token', async () => {
    const big = alertmanagerBody([primaryDown('main', { padding: 'x'.repeat(300 * 1024) })]);
    const res = await post(big);
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual({ error: 'the body is larger than 262144 bytes (webhook.bodyLimitBytes)' });
    expect(r.calls).toHaveLength(0);
  });

  test('the body limit is configurable', async () => {
    r = receiver({ webhook: { tokenEnv: 'T', bodyLimitBytes: 1024 } });
    const res = await post(alertmanagerBody([primaryDown('main', { padding: 'x'.repeat(1100) })]));
    expect(res.statusCode).toBe(413);
    expect(r.calls).toHaveLength(0);
  });
});

describe('Alertmanager: Temporal refuses the start', () => {
  test('503 (senders retry) when the start fails', async () => {
    r = receiver({
      start: async () => {
        throw new Error('14 UNAVAILABLE: connection refused');
      },
    });
    const res = await post(alertmanagerBody([primaryDown('main')]));
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({
      error: 'cannot start the emergency recovery of main: 14 UNAVAILABLE: connection refused',
    });
  });

  test('422 when the input is refused', async () => {
    r = receiver({
      start: async () => {
        throw new InputError('invalid emergency-recovery input: reason: too long');
      },
    });
    const res = await post(alertmanagerBody([primaryDown('main')]));
    expect(res.statusCode).toBe(422);
  });
});
