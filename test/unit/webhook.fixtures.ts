// A receiver on an in-memory inventory with a fake start that records every input, for the
// webhook tests: real HTTP on a free loopback port, no Temporal. (fastify's inject() cannot run
// under jest: light-my-request requires cookie@2, an ES module jest's require cannot load.)
import { createHmac, randomUUID } from 'node:crypto';
import pino, { type Logger } from 'pino';
import { validateInventory, type Webhook } from '../../domain/inventory';
import type { EmergencyRecoveryInput } from '../../domain/runbook';
import type { StartedRecovery } from '../../triggers/start';
import { buildReceiver } from '../../webhook/server';
import type { WebhookSecrets } from '../../webhook/secrets';

export const TOKEN = 'sesame-4f1c2a9e7b';
export const GRAFANA_SECRET = 'grafana-hmac-secret';
export const PD_SECRET = 'pagerduty-signing-secret';
export const BEARER = { authorization: `Bearer ${TOKEN}` };

export function inventoryWith(webhook: Record<string, unknown>) {
  const r = validateInventory({
    clusters: [
      {
        name: 'main',
        flavor: 'mariadb',
        hosts: [
          { name: 'db1', address: '10.0.0.11' },
          { name: 'db2', address: '10.0.0.12' },
          { name: 'db3', address: '10.0.0.13' },
        ],
      },
      {
        name: 'reporting',
        flavor: 'mysql',
        // Asks more of the worker than the default one failed probe when an alert starts a recovery.
        policy: { alertProbes: 3 },
        hosts: [
          { name: 'r1', address: '10.0.1.11' },
          { name: 'r2', address: '10.0.1.12' },
        ],
      },
    ],
    credentials: {
      mysql: { user: 'so', passwordEnv: 'SO_PW' },
      replication: { user: 'repl', passwordEnv: 'SO_REPL_PW' },
    },
    webhook,
  });
  if (!r.ok) throw new Error(r.problems.join('\n'));
  return { inventory: r.inventory, webhook: r.inventory.webhook as Webhook };
}

export interface Response {
  statusCode: number;
  body: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked field by field
  json(): any;
}

export interface FakeReceiver {
  app: ReturnType<typeof buildReceiver>;
  /** Every input the receiver asked to start, in order. */
  calls: EmergencyRecoveryInput[];
  /** Sends a request over HTTP; the receiver listens on its first request. */
  request(
    method: string,
    url: string,
    payload?: string | Buffer,
    headers?: Record<string, string>,
  ): Promise<Response>;
  /** Stops listening; safe to call when it never listened. */
  close(): Promise<void>;
}

/**
 * The fake start answers like startEmergencyRecovery: one run per cluster, and a second start of
 * the same cluster joins it (started false, same run id).
 */
export function receiver(
  opts: {
    webhook?: Record<string, unknown>;
    secrets?: WebhookSecrets;
    start?: (input: EmergencyRecoveryInput) => Promise<StartedRecovery>;
    logger?: Logger;
  } = {},
): FakeReceiver {
  const { inventory, webhook } = inventoryWith(opts.webhook ?? { tokenEnv: 'SO_HOOK_TOKEN' });
  const calls: EmergencyRecoveryInput[] = [];
  const running = new Map<string, string>();
  const app = buildReceiver({
    inventory,
    webhook,
    secrets: opts.secrets ?? { token: TOKEN },
    logger: opts.logger,
    start: async (input) => {
      calls.push(input);
      if (opts.start) return opts.start(input);
      const workflowId = `emergency-recovery/${input.cluster}`;
      const runId = running.get(workflowId);
      if (runId) return { workflowId, runId, started: false };
      running.set(workflowId, `run-${running.size + 1}`);
      return { workflowId, runId: `run-${running.size}`, started: true };
    },
  });
  let base: Promise<string> | undefined;
  return {
    app,
    calls,
    async request(method, url, payload, headers = {}) {
      base ??= app.listen({ host: '127.0.0.1', port: 0 });
      const res = await fetch(`${await base}${url}`, { method, headers, body: payload });
      const body = await res.text();
      return { statusCode: res.status, body, json: () => JSON.parse(body) };
    },
    close: () => app.close(),
  };
}

export interface AlertSpec {
  name?: string;
  status?: 'firing' | 'resolved';
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export function promAlert(a: AlertSpec, i = 0) {
  return {
    status: a.status ?? 'firing',
    labels: { ...(a.name !== undefined ? { alertname: a.name } : {}), ...a.labels },
    annotations: a.annotations ?? {},
    startsAt: '2025-06-01T10:00:00.000Z',
    endsAt: '0001-01-01T00:00:00Z',
    generatorURL: 'http://prometheus:9090/graph',
    fingerprint: `fp${i}`,
  };
}

/** An Alertmanager webhook (v4) body carrying the given alerts. */
export function alertmanagerBody(alerts: AlertSpec[]): string {
  const list = alerts.map(promAlert);
  return JSON.stringify({
    version: '4',
    groupKey: '{}:{alertname="MySQLPrimaryDown"}',
    truncatedAlerts: 0,
    status: list.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    receiver: 'successover',
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    alerts: list,
  });
}

/** Grafana alerting's default webhook body. */
export function grafanaBody(alerts: AlertSpec[]): string {
  const list = alerts.map(promAlert);
  return JSON.stringify({
    receiver: 'successover',
    status: list.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    orgId: 1,
    alerts: list.map((a) => ({ ...a, values: { A: 0 }, valueString: '', silenceURL: '', dashboardURL: '' })),
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://grafana:3000/',
    version: '1',
    groupKey: '{}',
    truncatedAlerts: 0,
    title: '[FIRING:1] (MySQLPrimaryDown)',
    state: 'alerting',
    message: '',
  });
}

/** A PagerDuty V3 webhook body about one incident: a new event (id), occurred now, by default. */
export function pagerDutyBody(
  eventType: string,
  incident: {
    title?: string;
    serviceId?: string;
    serviceName?: string;
    incidentKey?: string;
    eventId?: string;
    occurredAt?: string;
  } = {},
): string {
  return JSON.stringify({
    event: {
      id: incident.eventId ?? `01${randomUUID().replace(/-/g, '').slice(0, 24).toUpperCase()}`,
      event_type: eventType,
      resource_type: eventType === 'pagey.ping' ? 'pagey' : 'incident',
      occurred_at: incident.occurredAt ?? new Date().toISOString(),
      agent: null,
      client: null,
      data:
        eventType === 'pagey.ping'
          ? { message: 'Hello from your friend Pagey!', type: 'ping' }
          : {
              id: 'Q2P3JAKGLW5JSV',
              type: 'incident',
              self: 'https://api.pagerduty.com/incidents/Q2P3JAKGLW5JSV',
              html_url: 'https://acme.pagerduty.com/incidents/Q2P3JAKGLW5JSV',
              number: 42,
              status: eventType === 'incident.resolved' ? 'resolved' : 'triggered',
              incident_key: incident.incidentKey ?? 'a1b2c3',
              created_at: '2025-06-01T10:00:03Z',
              title: incident.title ?? '[FIRING:1] MySQLPrimaryDown (main critical)',
              service: {
                id: incident.serviceId ?? 'PSVC001',
                summary: incident.serviceName ?? 'MySQL main',
                type: 'service_reference',
              },
              urgency: 'high',
            },
    },
  });
}

export const hmacHex = (secret: string, body: string | Buffer) =>
  createHmac('sha256', secret).update(body).digest('hex');

/** A logger whose JSON lines are kept, to check what the receiver logged. */
export function capturingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { logger, lines };
}

/** The receiver's request counter for one outcome, read from its /metrics (shared registry). */
export async function outcomeCount(r: FakeReceiver, outcome: string): Promise<number> {
  const text = (await r.request('GET', '/metrics')).body;
  const m = new RegExp(`successover_webhook_requests_total\\{outcome="${outcome}"\\} (\\d+)`).exec(text);
  return m ? Number(m[1]) : 0;
}
