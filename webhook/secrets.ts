// The receiver's own secrets (bearer token, HMAC secrets), resolved from the inventory's webhook
// section on the receiver, as the worker resolves its own: the receiver needs no database secret.
import type { Webhook } from '../domain/inventory';
import { inventoryBaseDir, secretByRef } from '../worker/secrets';

export interface WebhookSecrets {
  token?: string;
  grafana?: string;
  pagerduty?: string;
}

const WHO = 'the webhook receiver';

export function resolveWebhookSecrets(
  webhook: Webhook,
  inventoryPath: string,
  env: NodeJS.ProcessEnv = process.env,
): WebhookSecrets {
  const baseDir = inventoryBaseDir(inventoryPath);
  // The variables themselves, without a prototype: tokenEnv "constructor" must be a variable that
  // is not set, not Object's constructor (process.env inherits it) taken for a secret.
  const vars: NodeJS.ProcessEnv = Object.assign(Object.create(null), env);
  const read = (ref: { env?: string; file?: string }, field: string) => {
    const v = secretByRef(ref, { env: `${field}Env`, file: `${field}File` }, vars, baseDir, WHO);
    if (v === '') throw new Error(`${field}: the secret is empty: an empty secret authenticates nobody`);
    return v;
  };
  const s: WebhookSecrets = {};
  if (webhook.tokenEnv !== undefined || webhook.tokenFile !== undefined)
    s.token = read({ env: webhook.tokenEnv, file: webhook.tokenFile }, 'webhook.token');
  if (webhook.grafana)
    s.grafana = read(
      { env: webhook.grafana.secretEnv, file: webhook.grafana.secretFile },
      'webhook.grafana.secret',
    );
  if (webhook.pagerduty)
    s.pagerduty = read(
      { env: webhook.pagerduty.secretEnv, file: webhook.pagerduty.secretFile },
      'webhook.pagerduty.secret',
    );
  return s;
}
