// `/metrics` over plain node:http: one route, no framework needed. Other sources (the Temporal
// SDK's own exporter) are appended to the registry's text, so Prometheus scrapes one target.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectProcessMetrics, registry } from './registry';

/** More exposition text to append, e.g. sdkMetrics(address); must not repeat a metric name. */
export type MetricsSource = () => Promise<string>;

export interface MetricsServerOptions {
  /** 0: any free port (see the returned port). */
  port: number;
  /** Default: every interface, as exporters do; 127.0.0.1 keeps it local. */
  host?: string;
  sources?: MetricsSource[];
}

export interface MetricsServer {
  port: number;
  url: string;
  close(): Promise<void>;
}

export async function serveMetrics(opts: MetricsServerOptions): Promise<MetricsServer> {
  collectProcessMetrics();
  const sources = opts.sources ?? [];
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
      return;
    }
    Promise.all([registry.metrics(), ...sources.map((s) => s())]).then(
      (texts) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(texts.map((t) => (t.endsWith('\n') ? t : `${t}\n`)).join(''));
      },
      (e: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${String(e)}\n`);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = !opts.host || opts.host === '0.0.0.0' ? '127.0.0.1' : opts.host;
  return {
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The Temporal SDK's runtime metrics (workflow task latency, pollers, sticky cache...), which its
 * Rust core exports on a loopback address of its own: read on each scrape and passed through.
 * A failure yields a comment, so our own metrics are still served.
 */
export function sdkMetrics(address: string, timeoutMs = 2000): MetricsSource {
  return async () => {
    try {
      const r = await fetch(`http://${address}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
      if (!r.ok) return `# Temporal SDK metrics unavailable: HTTP ${r.status}\n`;
      return await r.text();
    } catch (e) {
      return `# Temporal SDK metrics unavailable: ${e instanceof Error ? e.message : String(e)}\n`;
    }
  };
}
