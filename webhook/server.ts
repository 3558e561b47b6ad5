// The alert receiver's HTTP side (fastify). Each request goes: authentication (401: the bearer
// token before the body is read, a signature once it is, within the size limit, 413) -> JSON and
// zod (400) -> replay (401/409, signed senders) -> plan (404/422) -> start. Nothing is started
// unless every step before it passed, and every refusal is logged and counted. The start function
// is injected so unit tests count calls.
import Fastify, { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import pino, { type Logger } from 'pino';
import type { Inventory, Webhook } from '../domain/inventory';
import { planRecoveries, Refusal, type Plan, type System } from './alerts';
import { ReplayMemory, type Once } from './replay';
import { authenticator, describeIssues, routeTable, ROUTES, type Route } from './routes';
import { RunsAnswered, startRuns, type StartRecovery } from './runs';
import type { WebhookSecrets } from './secrets';
import { registry } from '../metrics/registry';
import { webhookRequests } from '../metrics/webhook';

/** The metrics' outcome of an answer, by status; 202 says started or joined (see startRuns). */
const OUTCOMES = new Map<number, string>([
  [200, 'ignored'],
  [400, 'bad-request'],
  [401, 'unauthorized'],
  [404, 'not-found'],
  [409, 'replay'],
  [413, 'too-large'],
  [415, 'unsupported-media-type'],
  [422, 'unusable'],
  [503, 'unavailable'],
]);

export { ROUTES };
export type { StartRecovery };

export interface ReceiverOptions {
  inventory: Inventory;
  /** The inventory's webhook section, defaults applied. */
  webhook: Webhook;
  secrets: WebhookSecrets;
  start: StartRecovery;
  logger?: Logger;
}

const NO_BODY = Buffer.alloc(0);

export function buildReceiver(o: ReceiverOptions) {
  // o.inventory is read per request: the receiver's inventory file is re-read when it changes.
  const { webhook, secrets, start } = o;
  const log = o.logger ?? pino({ level: 'silent' });
  const replays = new ReplayMemory();
  const answered = new RunsAnswered();
  const app = Fastify({
    loggerInstance: log,
    // One line per decision instead of fastify's two per request.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: webhook.bodyLimitBytes,
  });
  const arrival = new WeakMap<FastifyRequest, string>();
  /** The metrics' outcome when the status alone does not tell it (202: started or joined). */
  const outcomes = new WeakMap<FastifyRequest, string>();
  app.addHook('onRequest', async (request) => {
    arrival.set(request, new Date().toISOString());
    // Every body is read as raw bytes whatever its Content-Type: signatures are over the exact
    // body, and a body that is not JSON is a 400 after authentication. fastify answers an empty
    // or malformed Content-Type with 415 before any route code, so before authentication: the
    // header is overridden for fastify (the headers the routes read keep the rest).
    request.headers = { 'content-type': 'application/octet-stream' };
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  const routes = routeTable(webhook, secrets);

  // The helpers below send the answer and return nothing: a reply is a thenable, so an awaited
  // helper returning it would wait for the response to be written.
  const refuse = (reply: FastifyReply, status: number, message: string): void => {
    const { request } = reply;
    // The path only: a query string is the sender's, and may carry what must not be logged.
    const route = request.url.split('?')[0].slice(0, 200);
    log.warn({ route, status, reason: message, remote: request.ip }, 'request refused');
    void reply.code(status).send({ error: message });
  };

  /** From the body to the answer; the request was authenticated. */
  async function decide(
    request: FastifyRequest,
    reply: FastifyReply,
    system: System,
    raw: Buffer,
    authOnce: Once | undefined,
  ): Promise<void> {
    const route = routes[system];
    let doc: unknown;
    try {
      doc = JSON.parse(raw.toString('utf8'));
    } catch (e) {
      return refuse(reply, 400, `the body is not JSON: ${(e as Error).message}`);
    }
    const parsed = route.schema.safeParse(doc, { reportInput: true });
    if (!parsed.success)
      return refuse(reply, 400, `invalid ${system} payload: ${describeIssues(parsed.error)}`);
    let once = authOnce;
    if (route.once) {
      const r = route.once(parsed.data);
      if (!r.ok) return refuse(reply, r.status, r.message);
      once = r.once;
    }
    // Claimed before anything is started, so two copies arriving together cannot both pass, and
    // released unless the request is accepted (2xx): the sender's retry is then judged afresh.
    const claim = once ? replays.claim(once.key, once.untilMs) : undefined;
    if (once && claim?.replay)
      return refuse(reply, 409, once.replayed(Math.round((Date.now() - claim.firstAtMs) / 1000)));
    try {
      await planAndStart(request, reply, route, parsed.data);
    } finally {
      if (claim && !claim.replay && !(reply.sent && reply.statusCode < 300)) claim.release();
    }
  }

  async function planAndStart(
    request: FastifyRequest,
    reply: FastifyReply,
    route: Route,
    payload: unknown,
  ): Promise<void> {
    const { alerts, system: source } = route.read(payload);
    let plan: Plan;
    try {
      plan = planRecoveries(alerts, {
        inventory: o.inventory,
        webhook,
        system: source,
        receivedAt: arrival.get(request) ?? new Date().toISOString(),
      });
    } catch (e) {
      if (e instanceof Refusal) return refuse(reply, e.status, e.message);
      throw e;
    }
    for (const i of plan.ignored)
      log.info({ system: source, ...i }, i.recorded ? 'alert recorded, starts nothing' : 'alert ignored');
    if (plan.starts.length === 0) {
      void reply.code(200).send({ ignored: plan.ignored.map((i) => i.reason).join('; ') });
      return;
    }
    const answer = await startRuns(plan, start, answered, log, source);
    if (answer.outcome) outcomes.set(request, answer.outcome);
    void reply.code(answer.status).send(answer.body);
  }

  for (const system of Object.keys(routes) as System[]) {
    const auth = authenticator(system, webhook, secrets);
    // The bearer token is checked before the body is read: a sender without it is refused
    // whatever its body, its size or its Content-Type.
    const early = auth.needsBody
      ? {}
      : {
          onRequest: async (request: FastifyRequest, reply: FastifyReply) => {
            const a = auth.check(request.headers, NO_BODY);
            if (!a.ok) {
              // The body is left unread: the connection is closed, not kept waiting for it.
              void reply.header('connection', 'close');
              refuse(reply, 401, a.message);
              return reply;
            }
          },
        };
    app.post(ROUTES[system], early, async (request, reply) => {
      const raw = Buffer.isBuffer(request.body) ? request.body : NO_BODY;
      let once: Once | undefined;
      if (auth.needsBody) {
        const a = auth.check(request.headers, raw);
        if (!a.ok) {
          refuse(reply, 401, a.message);
          return reply;
        }
        once = a.once;
      }
      await decide(request, reply, system, raw, once);
      return reply;
    });
  }

  app.get('/healthz', async () => ({ ok: true }));
  // Prometheus scrapes the receiver too: requests by outcome (what the status code says happened).
  app.get('/metrics', async (_request, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  );
  // Every alert request, and every refusal (an unknown route too); not the probes and scrapes.
  app.addHook('onResponse', async (request, reply) => {
    if (request.method !== 'POST' && reply.statusCode < 400) return;
    webhookRequests.inc({
      outcome: outcomes.get(request) ?? OUTCOMES.get(reply.statusCode) ?? 'error',
    });
  });

  app.setNotFoundHandler((request, reply) => {
    refuse(
      reply,
      404,
      `no route ${request.method} ${request.url}: POST ${Object.values(ROUTES).join(', ')}; GET /healthz, /metrics`,
    );
    return reply;
  });

  app.setErrorHandler((error: Error & { code?: string; statusCode?: number }, request, reply) => {
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      refuse(reply, 413, `the body is larger than ${webhook.bodyLimitBytes} bytes (webhook.bodyLimitBytes)`);
      return reply;
    }
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      refuse(reply, error.statusCode, error.message);
      return reply;
    }
    log.error({ err: error, url: request.url }, 'request failed');
    return reply.code(500).send({ error: 'internal error: see the receiver log' });
  });

  return app;
}
