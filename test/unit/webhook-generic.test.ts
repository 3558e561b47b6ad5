// The plain JSON route, the routes around it, and the receiver's secrets.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveWebhookSecrets } from '../../webhook/secrets';
import { BEARER, inventoryWith, receiver, type FakeReceiver } from './webhook.fixtures';

const HEADERS = { 'content-type': 'application/json', ...BEARER };

let r: FakeReceiver;
beforeEach(() => {
  r = receiver();
});
afterEach(() => r.close());

const post = (body: unknown, headers: Record<string, string> = HEADERS) =>
  r.request('POST', '/alerts/generic', JSON.stringify(body), headers);

describe('generic route', () => {
  test('a request starts the recovery with its primary and reason, whatever the alert name', async () => {
    const res = await post({
      cluster: 'main',
      primary: 'db3',
      reason: 'Orchestrator: DeadMaster on db3:3306',
      system: 'orchestrator',
      alert: { name: 'DeadMaster', labels: { failed_host: 'db3.example.com' } },
    });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({
      cluster: 'main',
      workflowId: 'emergency-recovery/main',
      runId: 'run-1',
      started: true,
      joined: false,
    });
    expect(r.calls).toEqual([
      {
        cluster: 'main',
        primary: 'db3',
        probes: 1,
        reason: 'Orchestrator: DeadMaster on db3:3306',
        source: {
          kind: 'webhook',
          system: 'orchestrator',
          receivedAt: expect.any(String),
          alert: { name: 'DeadMaster', labels: { failed_host: 'db3.example.com' } },
        },
      },
    ]);
  });

  test('the smallest request: a cluster', async () => {
    expect((await post({ cluster: 'reporting' })).statusCode).toBe(202);
    expect(r.calls[0]).toMatchObject({ cluster: 'reporting', reason: 'generic request' });
    expect(r.calls[0].source).toMatchObject({ kind: 'webhook', system: 'generic' });
  });

  test('an instance label names the primary only when it is a host', async () => {
    await post({ cluster: 'main', alert: { labels: { instance: 'db2:3306' } } });
    await post({ cluster: 'reporting', alert: { labels: { instance: 'db2.example.com:3306' } } });
    expect(r.calls[0].primary).toBe('db2');
    expect(r.calls[1]).not.toHaveProperty('primary');
  });

  test('an explicit primary that is not a host: 422', async () => {
    const res = await post({ cluster: 'main', primary: 'db9' });
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toBe(
      '(body): primary "db9" is not a host of cluster main: expected one of db1, db2, db3',
    );
    expect(r.calls).toHaveLength(0);
  });

  test('an unknown cluster: 404', async () => {
    const res = await post({ cluster: 'staging' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error).toBe('(body): unknown cluster "staging": the inventory has main, reporting');
    expect(r.calls).toHaveLength(0);
  });

  test.each([
    [
      { clustr: 'main' },
      'invalid generic payload: cluster: missing (expected string); (top level): unknown field "clustr"',
    ],
    [
      { cluster: 'main', system: 'Orchestrator!' },
      'invalid generic payload: system: expected a short lower-case name, e.g. orchestrator',
    ],
    [
      { cluster: 'main', alert: { labels: { instance: 3306 } } },
      'invalid generic payload: alert.labels.instance: Invalid input: expected string, received number',
    ],
    [['main'], 'invalid generic payload: (top level): Invalid input: expected object, received array'],
  ])('400 on %j', async (body, message) => {
    const res = await post(body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: message });
    expect(r.calls).toHaveLength(0);
  });

  test('401 without the token', async () => {
    const res = await post({ cluster: 'main' }, { 'content-type': 'application/json' });
    expect(res.statusCode).toBe(401);
    expect(r.calls).toHaveLength(0);
  });
});

describe('routes', () => {
  test('GET /healthz needs no credential', async () => {
    const res = await r.request('GET', '/healthz');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ok: true });
  });

  test('GET /metrics counts requests by outcome', async () => {
    const count = async (outcome: string) => {
      const text = (await r.request('GET', '/metrics')).body;
      const m = new RegExp(`successover_webhook_requests_total\\{outcome="${outcome}"\\} (\\d+)`).exec(text);
      return m ? Number(m[1]) : 0;
    };
    const [unauthorized, started, joined] = [
      await count('unauthorized'),
      await count('started'),
      await count('joined'),
    ];
    await post({ cluster: 'main' }, { 'content-type': 'application/json' });
    await post({ cluster: 'main' });
    await post({ cluster: 'main' });
    expect(await count('unauthorized')).toBe(unauthorized + 1);
    expect(await count('started')).toBe(started + 1);
    expect(await count('joined')).toBe(joined + 1);
  });

  test('an unknown route: 404 listing the routes', async () => {
    const res = await r.request('POST', '/alerts/nagios', '{}', HEADERS);
    expect(res.statusCode).toBe(404);
    expect(res.json().error).toBe(
      'no route POST /alerts/nagios: POST /alerts/alertmanager, /alerts/grafana, /alerts/pagerduty, /alerts/generic; GET /healthz, /metrics',
    );
  });

  test('a route with no credential configured refuses every request', async () => {
    r = receiver({ webhook: { grafana: { secretEnv: 'G' } }, secrets: { grafana: 'g' } });
    const res = await post({ cluster: 'main' });
    expect(res.statusCode).toBe(401);
    expect(res.json().error).toBe(
      '/alerts/generic has no credential configured: set webhook.tokenEnv or webhook.tokenFile',
    );
    expect(r.calls).toHaveLength(0);
  });
});

describe('receiver secrets', () => {
  const dir = mkdtempSync(join(tmpdir(), 'so-hook-'));

  test('resolved from the environment and from files next to the inventory', () => {
    writeFileSync(join(dir, 'pd.secret'), 'pd-s3cret\n');
    const { webhook } = inventoryWith({
      tokenEnv: 'HOOK_TOKEN',
      grafana: { secretEnv: 'GRAFANA_HMAC' },
      pagerduty: { secretFile: 'pd.secret' },
    });
    const s = resolveWebhookSecrets(webhook, join(dir, 'inventory.yaml'), {
      HOOK_TOKEN: 'tok',
      GRAFANA_HMAC: 'g',
    });
    expect(s).toEqual({ token: 'tok', grafana: 'g', pagerduty: 'pd-s3cret' });
  });

  test.each(['constructor', 'toString', '__proto__'])(
    'a secret variable named %s is read from the environment only',
    (name) => {
      const { webhook } = inventoryWith({ tokenEnv: name });
      expect(() => resolveWebhookSecrets(webhook, '/etc/successover/inventory.yaml', {})).toThrow(
        `webhook.tokenEnv: environment variable ${name} is not set`,
      );
    },
  );

  test('a missing variable or file, or an empty secret, is named', () => {
    const { webhook } = inventoryWith({ tokenEnv: 'HOOK_TOKEN' });
    expect(() => resolveWebhookSecrets(webhook, join(dir, 'inventory.yaml'), {})).toThrow(
      'webhook.tokenEnv: environment variable HOOK_TOKEN is not set: export it before starting the webhook receiver',
    );
    expect(() => resolveWebhookSecrets(webhook, join(dir, 'inventory.yaml'), { HOOK_TOKEN: '' })).toThrow(
      'webhook.token: the secret is empty',
    );
    const withFile = inventoryWith({ tokenFile: 'missing.token' }).webhook;
    expect(() => resolveWebhookSecrets(withFile, join(dir, 'inventory.yaml'), {})).toThrow(
      /^webhook\.tokenFile: cannot read .*missing\.token \(ENOENT\)/,
    );
  });
});
