// What each sender posts, validated with zod. Only the fields the receiver reads are checked;
// senders add fields between versions, so the objects are loose (the generic body, which we
// define, is strict).
import { z } from 'zod';

const labels = z.record(z.string(), z.string());

/** One alert as Alertmanager and Grafana both send it. */
const PromAlertSchema = z.looseObject({
  status: z.enum(['firing', 'resolved']),
  labels,
  annotations: labels.default({}),
  startsAt: z.string().optional(),
  endsAt: z.string().optional(),
  fingerprint: z.string().optional(),
  generatorURL: z.string().optional(),
});
export type PromAlert = z.output<typeof PromAlertSchema>;

/** Prometheus Alertmanager webhook, payload version 4. */
export const AlertmanagerPayloadSchema = z.looseObject({
  version: z.literal('4', { error: 'expected "4" (the Alertmanager webhook payload version)' }),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string().optional(),
  groupKey: z.string().optional(),
  alerts: z.array(PromAlertSchema).min(1, 'expected at least one alert'),
});

/** Grafana alerting's webhook contact point (its default payload, version "1"). */
export const GrafanaPayloadSchema = z.looseObject({
  version: z.string().optional(),
  status: z.enum(['firing', 'resolved']).optional(),
  receiver: z.string().optional(),
  orgId: z.number().optional(),
  alerts: z.array(PromAlertSchema).min(1, 'expected at least one alert'),
});

/** PagerDuty V3 webhook: one event per request, about an incident (or a ping). */
export const PagerDutyPayloadSchema = z.looseObject({
  event: z.looseObject({
    id: z.string().optional(),
    event_type: z.string().min(1),
    resource_type: z.string().optional(),
    occurred_at: z.string().optional(),
    data: z
      .looseObject({
        id: z.string().optional(),
        type: z.string().optional(),
        number: z.number().optional(),
        status: z.string().optional(),
        title: z.string().optional(),
        incident_key: z.string().nullish(),
        created_at: z.string().optional(),
        urgency: z.string().optional(),
        html_url: z.string().optional(),
        service: z.looseObject({ id: z.string().optional(), summary: z.string().optional() }).nullish(),
      })
      .optional(),
  }),
});
export type PagerDutyPayload = z.output<typeof PagerDutyPayloadSchema>;

/** Ours: "recover this cluster", from a script, Orchestrator's hooks or a person with curl. */
export const GenericPayloadSchema = z.strictObject({
  cluster: z.string().min(1),
  /** The failed primary: must be a host of the cluster. */
  primary: z.string().min(1).optional(),
  reason: z.string().max(2000).optional(),
  /** Who asks, recorded in the run: e.g. orchestrator. */
  system: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,39}$/, 'expected a short lower-case name, e.g. orchestrator')
    .optional(),
  alert: z
    .strictObject({
      name: z.string().max(300).optional(),
      fingerprint: z.string().max(300).optional(),
      startsAt: z.string().max(100).optional(),
      labels: labels.optional(),
    })
    .optional(),
});
export type GenericPayload = z.output<typeof GenericPayloadSchema>;

export type AlertmanagerPayload = z.output<typeof AlertmanagerPayloadSchema>;
export type GrafanaPayload = z.output<typeof GrafanaPayloadSchema>;
