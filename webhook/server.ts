// The alert receiver's HTTP side (fastify). Each request goes: size limit (413) -> authentication
// on the raw body (401) -> JSON and zod (400) -> plan (404/422) -> start. Nothing is started
// unless every step before it passed. The start function is injected so unit tests count calls.
import Fastify, { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import pino, { type Logger } from 'pino';
import type { z } from 'zod';
import { formatPath, type Inventory, type Webhook } from '../domain/inventory';
import { InputError, type EmergencyRecoveryInput } from '../domain/runbook';
import type { StartedRecovery } from '../triggers/start';
import {
  fromGeneric,
  fromPagerDuty,
  fromPrometheus,
  planRecoveries,
  Refusal,
  type Alert,
  type Plan,
  type System,
} from './alerts';
import { checkBearer, checkGrafana, checkPagerDuty, type AuthResult } from './auth';
import {
  AlertmanagerPayloadSchema,
  GenericPayloadSchema,
  GrafanaPayloadSchema,
  PagerDutyPayloadSchema,
} from './payloads';
import type { WebhookSecrets } from './secrets';
import { registry } from '../metrics/registry';
import { webhookRequests } from '../metrics/webhook';

const OUTCOMES: Record<number, string> = {
  200: 'ignored',
  202: 'accepted',
  400: 'bad-request',
  401: 'unauthorized',
  404: 'not-found',
  413: 'too-large',
  422: 'unusable',
  503: 'unavailable',
};

export type StartRecovery = (input: EmergencyRecoveryInput) => Promise<StartedRecovery>;

export interface ReceiverOptions {
  inventory: Inventory;
  /** The inventory's webhook section, defaults applied. */
  webhook: Webhook;
  secrets: WebhookSecrets;
  start: StartRecovery;
  logger?: Logger;
}

export const ROUTES: Record<System, string> = {
  alertmanager: '/alerts/alertmanager',
  grafana: '/alerts/grafana',
  pagerduty: '/alerts/pagerduty',
  generic: '/alerts/generic',
};

interface Route {
  schema: z.ZodType;
  read(payload: unknown): { alerts: Alert[]; system: string };
}

type Authenticate = (headers: IncomingHttpHeaders, raw: Buffer) => AuthResult;

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 10)
    .map((i) => {
      const where = formatPath(i.path);
      if (i.code === 'unrecognized_keys')
        return `${where}: unknown field ${i.keys.map((k) => `"${k}"`).join(', ')}`;
      if (i.code === 'invalid_type' && (i as { input?: unknown }).input === undefined)
        return `${where}: missing (expected ${i.expected})`;
      return `${where}: ${i.message}`;
    })
    .join('; ');
}

/** Which credential each route demands: the sender's HMAC when configured, else the bearer token. */
function authenticator(system: System, webhook: Webhook, secrets: WebhookSecrets): Authenticate {
  const { grafana, pagerduty, token } = secrets;
  if (system === 'grafana' && webhook.grafana && grafana !== undefined) {
    const cfg = { ...webhook.grafana, secret: grafana };
    return (h, raw) => checkGrafana(h, raw, cfg);
  }
  if (system === 'pagerduty' && pagerduty !== undefined) return (h, raw) => checkPagerDuty(h, raw, pagerduty);
  if (token !== undefined) return (h) => checkBearer(h, token);
  const hmac = system === 'grafana' || system === 'pagerduty' ? ` or webhook.${system}` : '';
  return () => ({
    ok: false,
    message: `${ROUTES[system]} has no credential configured: set webhook.tokenEnv or webhook.tokenFile${hmac}`,
  });
}

/** Starts the plan's runs together and says how it went: 202, or 503 (422) when a start failed. */
async function startRuns(
  plan: Plan,
  start: StartRecovery,
  log: Logger,
  system: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const settled = await Promise.allSettled(plan.starts.map((s) => start(s.input)));
  const runs: ({ cluster: string } & StartedRecovery)[] = [];
  const failures: string[] = [];
  let status = 503;
  settled.forEach((r, i) => {
    const { cluster, alerts } = plan.starts[i];
    if (r.status === 'fulfilled') {
      runs.push({ cluster, ...r.value });
      log.info(
        { system, cluster, alerts, ...r.value },
        r.value.started ? 'emergency recovery started' : 'emergency recovery already running: joined',
      );
      return;
    }
    if (r.reason instanceof InputError) status = 422;
    failures.push(
      `cannot start the emergency recovery of ${cluster}: ${String(r.reason?.message ?? r.reason)}`,
    );
    log.error({ system, cluster, err: r.reason }, 'emergency recovery not started');
  });
  // Senders retry on 5xx; a retry joins the runs already started.
  if (failures.length > 0)
    return { status, body: { error: failures.join('; '), ...(runs.length > 0 ? { runs } : {}) } };
  const ignored = plan.ignored.length > 0 ? { ignored: plan.ignored.map((i) => i.reason).join('; ') } : {};
  return { status: 202, body: runs.length === 1 ? { ...runs[0], ...ignored } : { runs, ...ignored } };
}

export function buildReceiver(o: ReceiverOptions) {
  // o.inventory is read per request: the receiver's inventory file is re-read when it changes.
  const { webhook, secrets, start } = o;
  const log = o.logger ?? pino({ level: 'silent' });
  const app = Fastify({
    loggerInstance: log,
    // One line per decision instead of fastify's two per request.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: webhook.bodyLimitBytes,
  });
  const arrival = new WeakMap<FastifyRequest, string>();
  app.addHook('onRequest', async (request) => {
    arrival.set(request, new Date().toISOString());
  });
  // Raw bytes whatever the content type: signatures are over the exact body, and a body that is
  // not JSON is a 400 after authentication, not a 415 before it.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  const routes: Record<System, Route> = {
    alertmanager: {
      schema: AlertmanagerPayloadSchema,
      read: (p) => ({
        alerts: fromPrometheus(p as z.output<typeof AlertmanagerPayloadSchema>),
        system: 'alertmanager',
      }),
    },
    grafana: {
      schema: GrafanaPayloadSchema,
      read: (p) => ({
        alerts: fromPrometheus(p as z.output<typeof GrafanaPayloadSchema>),
        system: 'grafana',
      }),
    },
    pagerduty: {
      schema: PagerDutyPayloadSchema,
      read: (p) => ({
        alerts: fromPagerDuty(p as z.output<typeof PagerDutyPayloadSchema>, webhook),
        system: 'pagerduty',
      }),
    },
    generic: {
      schema: GenericPayloadSchema,
      read: (p) => {
        const body = p as z.output<typeof GenericPayloadSchema>;
        return { alerts: fromGeneric(body), system: body.system ?? 'generic' };
      },
    },
  };

  const refuse = (reply: FastifyReply, system: System, status: number, message: string) => {
    log.warn({ route: ROUTES[system], status, reason: message, remote: reply.request.ip }, 'request refused');
    return reply.code(status).send({ error: message });
  };

  for (const system of Object.keys(routes) as System[]) {
    const route = routes[system];
    const authenticate = authenticator(system, webhook, secrets);
    app.post(ROUTES[system], async (request, reply) => {
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const auth = authenticate(request.headers, raw);
      if (!auth.ok) return refuse(reply, system, 401, auth.message);
      let doc: unknown;
      try {
        doc = JSON.parse(raw.toString('utf8'));
      } catch (e) {
        return refuse(reply, system, 400, `the body is not JSON: ${(e as Error).message}`);
      }
      const parsed = route.schema.safeParse(doc, { reportInput: true });
      if (!parsed.success)
        return refuse(reply, system, 400, `invalid ${system} payload: ${describeIssues(parsed.error)}`);
      const { alerts, system: source } = route.read(parsed.data);
      let plan: Plan;
      try {
        plan = planRecoveries(alerts, {
          inventory: o.inventory,
          webhook,
          system: source,
          receivedAt: arrival.get(request) ?? new Date().toISOString(),
        });
      } catch (e) {
        if (e instanceof Refusal) return refuse(reply, system, e.status, e.message);
        throw e;
      }
      for (const i of plan.ignored)
        log.info({ system: source, ...i }, i.recorded ? 'alert recorded, starts nothing' : 'alert ignored');
      if (plan.starts.length === 0)
        return reply.code(200).send({ ignored: plan.ignored.map((i) => i.reason).join('; ') });
      const answer = await startRuns(plan, start, log, source);
      return reply.code(answer.status).send(answer.body);
    });
  }

  app.get('/healthz', async () => ({ ok: true }));
  // Prometheus scrapes the receiver too: requests by outcome (what the status code says happened).
  app.get('/metrics', async (_request, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  );
  app.addHook('onResponse', async (request, reply) => {
    if (request.method === 'POST') webhookRequests.inc({ outcome: OUTCOMES[reply.statusCode] ?? 'error' });
  });

  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      error: `no route ${request.method} ${request.url}: POST ${Object.values(ROUTES).join(', ')}; GET /healthz, /metrics`,
    }),
  );

  app.setErrorHandler((error: Error & { code?: string; statusCode?: number }, request, reply) => {
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      log.warn({ url: request.url, remote: request.ip }, 'request refused: body too large');
      return reply
        .code(413)
        .send({ error: `the body is larger than ${webhook.bodyLimitBytes} bytes (webhook.bodyLimitBytes)` });
    }
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500)
      return reply.code(error.statusCode).send({ error: error.message });
    log.error({ err: error, url: request.url }, 'request failed');
    return reply.code(500).send({ error: 'internal error: see the receiver log' });
  });

  return app;
}
