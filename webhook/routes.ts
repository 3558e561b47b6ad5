// What each route reads (its payload schema, how it becomes alerts, what a signed sender's
// payload may be accepted once as) and which credential it demands.
import type { IncomingHttpHeaders } from 'node:http';
import type { z } from 'zod';
import { formatPath, type Webhook } from '../domain/inventory';
import { fromGeneric, fromPagerDuty, fromPrometheus, type Alert, type System } from './alerts';
import { checkBearer, checkGrafana, checkPagerDuty, type AuthResult } from './auth';
import {
  AlertmanagerPayloadSchema,
  GenericPayloadSchema,
  GrafanaPayloadSchema,
  PagerDutyPayloadSchema,
} from './payloads';
import { pagerDutyOnce, type OnceOrRefusal } from './replay';
import type { WebhookSecrets } from './secrets';

export const ROUTES: Record<System, string> = {
  alertmanager: '/alerts/alertmanager',
  grafana: '/alerts/grafana',
  pagerduty: '/alerts/pagerduty',
  generic: '/alerts/generic',
};

export interface Route {
  schema: z.ZodType;
  read(payload: unknown): { alerts: Alert[]; system: string };
  /** A signed sender's payload that may be accepted once (a PagerDuty event id). */
  once?(payload: unknown): OnceOrRefusal;
}

export interface Authenticate {
  /** False for the bearer token: checked before the body is read. */
  needsBody: boolean;
  check(headers: IncomingHttpHeaders, raw: Buffer): AuthResult;
}

export function describeIssues(error: z.ZodError): string {
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
export function authenticator(system: System, webhook: Webhook, secrets: WebhookSecrets): Authenticate {
  const { grafana, pagerduty, token } = secrets;
  if (system === 'grafana' && webhook.grafana && grafana !== undefined) {
    const cfg = { ...webhook.grafana, secret: grafana };
    return { needsBody: true, check: (h, raw) => checkGrafana(h, raw, cfg) };
  }
  if (system === 'pagerduty' && pagerduty !== undefined)
    return { needsBody: true, check: (h, raw) => checkPagerDuty(h, raw, pagerduty) };
  if (token !== undefined) return { needsBody: false, check: (h) => checkBearer(h, token) };
  const hmac = system === 'grafana' || system === 'pagerduty' ? ` or webhook.${system}` : '';
  const message = `${ROUTES[system]} has no credential configured: set webhook.tokenEnv or webhook.tokenFile${hmac}`;
  return { needsBody: false, check: () => ({ ok: false, message }) };
}

export function routeTable(webhook: Webhook, secrets: WebhookSecrets): Record<System, Route> {
  const pd = webhook.pagerduty;
  return {
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
      // Signed events only: the window and the id are the signing subscription's.
      ...(pd && secrets.pagerduty !== undefined
        ? {
            once: (p: unknown) =>
              pagerDutyOnce((p as z.output<typeof PagerDutyPayloadSchema>).event, pd.maxSkewSeconds),
          }
        : {}),
    },
    generic: {
      schema: GenericPayloadSchema,
      read: (p) => {
        const body = p as z.output<typeof GenericPayloadSchema>;
        return { alerts: fromGeneric(body), system: body.system ?? 'generic' };
      },
    },
  };
}
