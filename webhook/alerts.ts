// From a sender's payload to a plan: which clusters' emergency recoveries to start, and which
// alerts start nothing (resolved, only recorded, not a primary failure). Pure, so every rule is
// unit-tested without a server; the server does the I/O.
import type { Cluster, Inventory, Webhook } from '../domain/inventory';
import type { EmergencyRecoveryInput } from '../domain/runbook';
import { own } from './own';
import type { AlertmanagerPayload, GenericPayload, GrafanaPayload, PagerDutyPayload } from './payloads';

export type System = 'alertmanager' | 'grafana' | 'pagerduty' | 'generic';

/** One alert, whoever sent it: what the plan needs and what the run records. */
export interface Alert {
  /** Where it is in the payload, for messages: "alerts[1]". */
  at: string;
  name?: string;
  firing: boolean;
  fingerprint?: string;
  startsAt?: string;
  labels: Record<string, string>;
  summary?: string;
  /** The cluster when it does not come from a label (the generic body, PagerDuty services). */
  cluster?: string;
  /** The generic body: an explicit request, started whatever its name; its primary must be a host. */
  request?: { primary?: string; reason?: string };
  /** Why it starts nothing, known from the payload alone (a PagerDuty ping). */
  skip?: string;
}

export interface Start {
  cluster: string;
  input: EmergencyRecoveryInput;
  /** The alerts this start stands for (several alerts of one cluster start one run). */
  alerts: string[];
}

export interface Ignored {
  alert: string;
  cluster?: string;
  reason: string;
  /** A lag or replication alert: logged as a fact about the cluster, not an error. */
  recorded: boolean;
}

export interface Plan {
  starts: Start[];
  ignored: Ignored[];
}

/** A payload that names a primary failure the receiver cannot act on: nothing is started. */
export class Refusal extends Error {
  override readonly name = 'Refusal';
  constructor(
    readonly status: 404 | 422,
    message: string,
  ) {
    super(message);
  }
}

type PromPayload = AlertmanagerPayload | GrafanaPayload;

export function fromPrometheus(p: PromPayload): Alert[] {
  return p.alerts.map((a, i) => ({
    at: `alerts[${i}]`,
    name: a.labels.alertname,
    firing: a.status === 'firing',
    fingerprint: a.fingerprint,
    startsAt: a.startsAt,
    labels: a.labels,
    summary: a.annotations.summary ?? a.annotations.description,
  }));
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The status Alertmanager's PagerDuty titles start with: "[FIRING:2] ", "[RESOLVED] ". */
const TITLE_STATUS = /^\s*(?:\[[A-Za-z]+(?::\d+)?\]\s*)?/;

/**
 * The known alert name a title starts with (after Alertmanager's status), whole: not one found
 * further in, where a title may only mention it ("lag on db3 (this is not MySQLPrimaryDown)").
 */
export function leadingAlertName(title: string, known: readonly string[]): string | undefined {
  const rest = title.replace(TITLE_STATUS, '');
  return known.find((n) => rest.startsWith(n) && !/^[A-Za-z0-9_]/.test(rest.slice(n.length)));
}

/** A dotted field ("priority.summary") of a payload object, its own properties only. */
function fieldAt(doc: unknown, path: string): unknown {
  let v: unknown = doc;
  for (const k of path.split('.'))
    v = v !== null && typeof v === 'object' ? own(v as Record<string, unknown>, k) : undefined;
  return v;
}

/**
 * PagerDuty incidents carry no labels: the cluster comes from webhook.pagerduty.services (by
 * service id or name) or from "<clusterLabel>=<name>" in the title; the alert name from the
 * incident field webhook.pagerduty.alertNameField, else from the start of the title (where
 * Alertmanager's PagerDuty titles put it).
 */
export function fromPagerDuty(p: PagerDutyPayload, webhook: Webhook): Alert[] {
  const e = p.event;
  const d = e.data ?? {};
  const title = d.title ?? '';
  const known = [...webhook.primaryDownAlerts, ...webhook.recordedAlerts];
  const services = webhook.pagerduty?.services;
  const service = d.service ?? undefined;
  const fromTitle = new RegExp(`(?:^|\\s)${escape(webhook.clusterLabel)}=([A-Za-z0-9][A-Za-z0-9_.-]*)`).exec(
    title,
  )?.[1];
  const cluster = own(services, service?.id) ?? own(services, service?.summary) ?? fromTitle;
  const field = webhook.pagerduty?.alertNameField;
  const fromField = field === undefined ? undefined : fieldAt(d, field);
  const name =
    field === undefined
      ? (leadingAlertName(title, known) ?? (title || undefined))
      : typeof fromField === 'string' && fromField.trim() !== ''
        ? fromField.trim()
        : undefined;
  const firing = e.event_type === 'incident.triggered' || e.event_type === 'incident.reopened';
  // No prototype: a clusterLabel "__proto__" is then a label like any other.
  const labels: Record<string, string> = Object.create(null);
  const put = (k: string, v: unknown) => {
    if (v !== undefined && v !== null && v !== '') labels[k] = String(v);
  };
  put('service', service?.summary);
  put('service_id', service?.id);
  put('incident_key', d.incident_key);
  put('incident_number', d.number);
  put('urgency', d.urgency);
  put(webhook.clusterLabel, cluster);
  return [
    {
      at: 'event',
      name,
      firing,
      fingerprint: d.id ?? e.id,
      startsAt: d.created_at ?? e.occurred_at,
      labels,
      summary: title || undefined,
      cluster,
      skip:
        e.event_type === 'pagey.ping'
          ? 'a PagerDuty ping'
          : !firing && e.event_type !== 'incident.resolved'
            ? `PagerDuty ${e.event_type} starts nothing`
            : name === undefined && field !== undefined
              ? `event.data.${field} holds no alert name (webhook.pagerduty.alertNameField): nothing started`
              : undefined,
    },
  ];
}

export function fromGeneric(p: GenericPayload): Alert[] {
  return [
    {
      at: '(body)',
      name: p.alert?.name,
      firing: true,
      fingerprint: p.alert?.fingerprint,
      startsAt: p.alert?.startsAt,
      labels: p.alert?.labels ?? {},
      cluster: p.cluster,
      request: { primary: p.primary, reason: p.reason },
    },
  ];
}

export interface PlanContext {
  inventory: Inventory;
  webhook: Webhook;
  /** Recorded as source.system: alertmanager, grafana, pagerduty, generic, orchestrator... */
  system: string;
  /** When the request arrived (ISO): the run's recovery time counts from here. */
  receivedAt: string;
}

const cut = (s: string | undefined, n: number) => (s === undefined ? undefined : s.slice(0, n));

/** A label value naming the primary ("db1" or "db1:9104"), when it is a host of the cluster. */
function hostNamed(cluster: Cluster, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const name = value.replace(/:\d+$/, '');
  return cluster.hosts.find((h) => h.name === name)?.name;
}

function noClusterMessage(a: Alert, ctx: PlanContext): string {
  const what = `${a.at}: ${a.name ?? 'the alert'} names no cluster`;
  if (ctx.system === 'pagerduty')
    return `${what}: map its service in webhook.pagerduty.services, or write ${ctx.webhook.clusterLabel}=<name> in the incident title`;
  return `${what}: add the label "${ctx.webhook.clusterLabel}" to the alert rule, or set webhook.clusterLabel`;
}

function reasonOf(a: Alert, system: string): string {
  if (a.request) return a.request.reason ?? `${system} request${a.name ? ` (${a.name})` : ''}`;
  const since = a.startsAt ? ` since ${a.startsAt}` : '';
  return `${system} alert ${a.name ?? ''} firing${since}${a.summary ? `: ${a.summary}` : ''}`;
}

/** Why an alert starts nothing, or null when it asks for a recovery. */
function whyNot(a: Alert, w: Webhook): { reason: string; recorded: boolean } | null {
  if (a.skip) return { reason: a.skip, recorded: false };
  if (a.request) return null;
  const name = a.name ?? '(no alertname)';
  if (!a.firing) return { reason: `${name} is resolved`, recorded: false };
  if (!a.name) return { reason: `${a.at} has no alertname label`, recorded: false };
  if (w.recordedAlerts.includes(a.name)) return { reason: `${name} is recorded only`, recorded: true };
  if (!w.primaryDownAlerts.includes(a.name))
    return { reason: `${name} is not a primary failure (webhook.primaryDownAlerts)`, recorded: false };
  return null;
}

/**
 * The plan for one payload. Throws a Refusal, before anything is started, when an alert asking
 * for a recovery names no cluster (422), an unknown one (404) or a primary that is not a host
 * (422): every problem is in the message.
 */
export function planRecoveries(alerts: Alert[], ctx: PlanContext): Plan {
  const ignored: Ignored[] = [];
  const problems: { status: 404 | 422; message: string }[] = [];
  const byCluster = new Map<string, { cluster: Cluster; alerts: Alert[]; primary?: string }>();
  for (const a of alerts) {
    const clusterName = a.cluster ?? own(a.labels, ctx.webhook.clusterLabel);
    const not = whyNot(a, ctx.webhook);
    if (not) {
      ignored.push({ alert: a.name ?? a.at, cluster: clusterName, ...not });
      continue;
    }
    if (!clusterName) {
      problems.push({ status: 422, message: noClusterMessage(a, ctx) });
      continue;
    }
    const cluster = ctx.inventory.clusters.find((c) => c.name === clusterName);
    if (!cluster) {
      problems.push({
        status: 404,
        message: `${a.at}: unknown cluster "${clusterName}": the inventory has ${ctx.inventory.clusters.map((c) => c.name).join(', ')}`,
      });
      continue;
    }
    if (a.request?.primary !== undefined && !hostNamed(cluster, a.request.primary)) {
      problems.push({
        status: 422,
        message: `${a.at}: primary "${a.request.primary}" is not a host of cluster ${cluster.name}: expected one of ${cluster.hosts.map((h) => h.name).join(', ')}`,
      });
      continue;
    }
    const primary =
      hostNamed(cluster, a.request?.primary) ??
      ctx.webhook.primaryLabels.map((l) => hostNamed(cluster, own(a.labels, l))).find((h) => h !== undefined);
    const group = byCluster.get(cluster.name) ?? { cluster, alerts: [] };
    group.alerts.push(a);
    group.primary ??= primary;
    byCluster.set(cluster.name, group);
  }
  if (problems.length > 0) throw new Refusal(problems[0].status, problems.map((p) => p.message).join('; '));
  const starts = [...byCluster.values()].map(({ cluster, alerts: [first, ...more], primary }) => {
    const others =
      more.length > 0 ? ` (+${more.length} more: ${more.map((m) => m.name ?? m.at).join(', ')})` : '';
    const labels = Object.fromEntries(
      Object.entries(first.labels).map(([k, v]) => [k.slice(0, 200), v.slice(0, 1000)]),
    );
    const input: EmergencyRecoveryInput = {
      cluster: cluster.name,
      ...(primary !== undefined ? { primary } : {}),
      reason: cut(reasonOf(first, ctx.system) + others, 2000),
      probes: cluster.policy.alertProbes,
      source: {
        kind: 'webhook',
        system: ctx.system,
        receivedAt: ctx.receivedAt,
        alert: {
          ...(first.name !== undefined ? { name: cut(first.name, 300) } : {}),
          ...(first.fingerprint !== undefined ? { fingerprint: cut(first.fingerprint, 300) } : {}),
          ...(first.startsAt !== undefined ? { startsAt: cut(first.startsAt, 100) } : {}),
          labels,
        },
      },
    };
    return { cluster: cluster.name, input, alerts: [first, ...more].map((m) => m.name ?? m.at) };
  });
  return { starts, ignored };
}
