// Who may send alerts: a bearer token, or the HMAC signature Grafana or PagerDuty put on the raw
// body. Every comparison is constant-time over equal-length digests, so neither a secret nor its
// length leaks through response times. Messages say what is wrong, never what was expected.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { own } from './own';
import type { Once } from './replay';

/** When authenticated, what the request may be accepted once as (a signature, for replays). */
export type AuthResult = { ok: true; once?: Once } | { ok: false; message: string };

const OK: AuthResult = { ok: true };
const refuse = (message: string): AuthResult => ({ ok: false, message });

// Header names come from the configuration: a request's own headers only, never an inherited
// property ("constructor") of the headers object.
function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = own(headers, name.toLowerCase());
  return Array.isArray(v) ? v[0] : v;
}

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

function hmacSha256(secret: string, ...parts: Buffer[]): Buffer {
  const h = createHmac('sha256', secret);
  for (const p of parts) h.update(p);
  return h.digest();
}

/** A hex signature against the digest it must equal; malformed hex never matches. */
function sameDigest(hex: string, expected: Buffer): boolean {
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return false;
  return timingSafeEqual(Buffer.from(hex, 'hex'), expected);
}

export function checkBearer(headers: IncomingHttpHeaders, token: string): AuthResult {
  const auth = header(headers, 'authorization');
  if (!auth) return refuse('missing Authorization header: send "Authorization: Bearer <token>"');
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(auth);
  if (!m) return refuse('the Authorization header is not "Bearer <token>"');
  // Digests of both sides: equal lengths whatever was sent.
  return timingSafeEqual(sha256(m[1]), sha256(token)) ? OK : refuse('wrong bearer token');
}

export interface GrafanaSignature {
  secret: string;
  header: string;
  timestampHeader?: string;
  maxSkewSeconds: number;
}

/** Grafana's name when the contact point's Header field is left empty, in some versions. */
const GRAFANA_FALLBACK_HEADER = 'X-Grafana-Alert-Signature';
const GRAFANA_DEFAULT_HEADER = 'X-Grafana-Alerting-Signature';

/**
 * Grafana alerting: hex HMAC-SHA256 of the raw body, or of "<unix seconds>:<body>" when the
 * contact point sets a timestamp header (then a timestamp off by more than maxSkewSeconds is a
 * replay and refused). An exact replay inside the window has the same signature: it is accepted
 * once (the answer's `once`), remembered until its timestamp, or its arrival, leaves the window.
 */
export function checkGrafana(
  headers: IncomingHttpHeaders,
  raw: Buffer,
  cfg: GrafanaSignature,
  nowMs: number = Date.now(),
): AuthResult {
  const signature =
    header(headers, cfg.header) ??
    (cfg.header === GRAFANA_DEFAULT_HEADER ? header(headers, GRAFANA_FALLBACK_HEADER) : undefined);
  if (!signature) return refuse(`missing ${cfg.header} header: set the contact point's HMAC signature`);
  let signed = [raw];
  let signedAtMs = nowMs;
  if (cfg.timestampHeader) {
    const ts = header(headers, cfg.timestampHeader);
    if (!ts || !/^\d{1,12}$/.test(ts.trim()))
      return refuse(`missing or malformed ${cfg.timestampHeader} header: expected Unix seconds`);
    const skew = Math.abs(nowMs / 1000 - Number(ts));
    if (skew > cfg.maxSkewSeconds)
      return refuse(
        `${cfg.timestampHeader} is ${Math.round(skew)} s from now, more than ${cfg.maxSkewSeconds} s (webhook.grafana.maxSkewSeconds)`,
      );
    signed = [Buffer.from(`${ts.trim()}:`), raw];
    signedAtMs = Number(ts) * 1000;
  }
  const expected = hmacSha256(cfg.secret, ...signed);
  if (!sameDigest(signature.trim(), expected))
    return refuse(`${cfg.header} does not match the body: wrong secret, or the body was changed`);
  return {
    ok: true,
    once: {
      // The digest, not the header as sent: upper-case hex is the same signature.
      key: `grafana:${expected.toString('hex')}`,
      untilMs: Math.max(nowMs, signedAtMs) + cfg.maxSkewSeconds * 1000,
      replayed: (ago) =>
        `this ${cfg.header} was already received ${ago} s ago: an exact replay starts nothing`,
    },
  };
}

/**
 * PagerDuty V3: "X-PagerDuty-Signature: v1=<hex>[,v1=<hex>...]", HMAC-SHA256 of the raw body. While
 * a secret is being rotated PagerDuty sends one signature per secret: any matching one is enough.
 */
export function checkPagerDuty(headers: IncomingHttpHeaders, raw: Buffer, secret: string): AuthResult {
  const value = header(headers, 'x-pagerduty-signature');
  if (!value) return refuse('missing X-PagerDuty-Signature header');
  const expected = hmacSha256(secret, raw);
  const signatures = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('v1='))
    .map((s) => s.slice(3));
  if (signatures.length === 0) return refuse('X-PagerDuty-Signature has no v1= signature');
  // Every candidate is compared, so the time does not tell which one matched.
  let match = false;
  for (const s of signatures) match = sameDigest(s, expected) || match;
  return match
    ? OK
    : refuse('X-PagerDuty-Signature does not match the body: wrong secret, or the body was changed');
}
