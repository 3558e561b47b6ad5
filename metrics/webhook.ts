// The webhook receiver's request counter, on the shared registry: import it where requests are
// answered, and serve it with serveMetrics (./server). Registered only when imported, so a worker
// without the receiver does not show an empty family.
import { Counter } from 'prom-client';
import { registry } from './registry';

export const webhookRequests = new Counter({
  name: 'successover_webhook_requests_total',
  help: 'Webhook requests, by outcome (e.g. started, joined, ignored, unauthorized, bad-request).',
  labelNames: ['outcome'] as const,
  registers: [registry],
});
