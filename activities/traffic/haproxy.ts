// HAProxy as the writer router, through its runtime API (stats socket, level admin). Detach puts
// the server in maintenance and cuts its open sessions, so no client keeps writing to a demoted
// primary; every change is read back with `show servers state`.
import { createConnection } from 'node:net';
import type { Cluster, Traffic } from '../../domain/inventory';
import { FailureType, nonRetryable, retryable } from '../errors';
import { errorMessage, hostOf } from './common';
import { parseServersState, type HaproxyServerState } from './haproxyState';
import type {
  Holders,
  PlannedCommand,
  RouterCallOptions,
  RouterResult,
  TrafficOp,
  TrafficRouter,
} from './types';

type HaproxyTraffic = Extract<Traffic, { type: 'haproxy' }>;

// The runtime API splits on blanks and ';' and has no quoting: names must be plain.
const HAPROXY_NAME = /^[A-Za-z0-9_.:-]+$/;

export class HaproxyRouter implements TrafficRouter {
  readonly type = 'haproxy' as const;

  constructor(
    private readonly cluster: Cluster,
    private readonly traffic: HaproxyTraffic,
    private readonly timeoutMs = 5_000,
  ) {}

  serverName(host: string): string {
    hostOf(this.cluster, host);
    const name = this.traffic.servers[host] ?? host;
    checkName('server', name);
    return name;
  }

  commands(op: TrafficOp, host: string): string[] {
    const target = `${this.backend()}/${this.serverName(host)}`;
    return op === 'detach'
      ? [`set server ${target} state maint`, `shutdown sessions server ${target}`]
      : [`set server ${target} state ready`];
  }

  plan(op: TrafficOp, host: string): PlannedCommand[] {
    const on = `haproxy ${this.traffic.runtimeApi}`;
    return [...this.commands(op, host), `show servers state ${this.backend()}`].map((command) => ({
      on,
      command,
    }));
  }

  /** The backend's servers as HAProxy reports them now. */
  async servers(): Promise<HaproxyServerState[]> {
    const out = await this.call(`show servers state ${this.backend()}`);
    try {
      return parseServersState(out);
    } catch (e) {
      // "Can't find backend." and friends come back as plain text.
      throw nonRetryable(
        FailureType.BadConfiguration,
        `haproxy ${this.traffic.runtimeApi}: show servers state ${this.backend()}: ${out.trim() || errorMessage(e)}: ` +
          'check traffic.backend in the inventory',
      );
    }
  }

  detach(host: string, options: RouterCallOptions = {}): Promise<RouterResult> {
    return this.change('detach', host, options, (s) => s.maint);
  }

  attach(host: string, options: RouterCallOptions = {}): Promise<RouterResult> {
    return this.change('attach', host, options, (s) => !s.maint && !s.drain);
  }

  async holders(): Promise<Holders> {
    const byServer = new Map(this.cluster.hosts.map((h) => [this.traffic.servers[h.name] ?? h.name, h.name]));
    const servers = await this.servers();
    // A routable server that is no inventory host is reported by its own name: it breaks the invariant.
    return {
      holders: servers.filter((s) => s.routable).map((s) => byServer.get(s.server) ?? s.server),
      unknown: [],
    };
  }

  private backend(): string {
    checkName('backend', this.traffic.backend);
    return this.traffic.backend;
  }

  private async change(
    op: TrafficOp,
    host: string,
    options: RouterCallOptions,
    reached: (s: HaproxyServerState) => boolean,
  ): Promise<RouterResult> {
    try {
      const server = this.serverName(host);
      const before = this.find(await this.servers(), server);
      for (const command of this.commands(op, host)) {
        const out = (await this.call(command)).trim();
        if (out !== '') throw this.commandFailure(command, out);
      }
      const after = this.find(await this.servers(), server);
      if (!reached(after))
        throw nonRetryable(
          FailureType.BadConfiguration,
          `haproxy ${this.backend()}/${server}: after ${op} the server state is ${describe(after)}: ` +
            'something else (configuration "disabled", DNS resolution, a health agent) holds it',
        );
      return {
        host,
        op,
        ok: true,
        changed: !reached(before),
        detail: `${this.backend()}/${server} ${describe(after)}`,
      };
    } catch (e) {
      if (!options.bestEffort) throw e;
      return {
        host,
        op,
        ok: false,
        changed: false,
        detail: `${op} ${host} on haproxy failed: ${errorMessage(e)}`,
      };
    }
  }

  private find(servers: HaproxyServerState[], server: string): HaproxyServerState {
    const s = servers.find((x) => x.server === server);
    if (!s)
      throw nonRetryable(
        FailureType.BadConfiguration,
        `haproxy backend ${this.backend()} has no server "${server}" (it has ${servers.map((x) => x.server).join(', ') || 'none'}): ` +
          'name it like the inventory host or map it in traffic.servers',
      );
    return s;
  }

  private commandFailure(command: string, out: string) {
    const text = `haproxy ${this.traffic.runtimeApi}: "${command}": ${out}`;
    if (/permission denied/i.test(out))
      return nonRetryable(FailureType.Authentication, `${text}: the stats socket needs "level admin"`);
    if (/no such|can't find|unknown/i.test(out)) return nonRetryable(FailureType.BadConfiguration, text);
    return retryable(FailureType.Unreachable, text);
  }

  private call(command: string): Promise<string> {
    return runtimeApiCall(this.traffic.runtimeApi, command, this.timeoutMs);
  }
}

/** One command on the HAProxy runtime API (non-interactive: HAProxy closes after answering). */
export function runtimeApiCall(api: string, command: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = api.startsWith('unix:')
      ? createConnection({ path: api.slice('unix:'.length) })
      : (() => {
          const m = /^tcp:(.+):(\d+)$/.exec(api);
          if (!m) throw nonRetryable(FailureType.BadConfiguration, `bad haproxy runtimeApi "${api}"`);
          return createConnection({ host: m[1], port: Number(m[2]) });
        })();
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      sock.destroy();
      reject(
        retryable(
          FailureType.Unreachable,
          `haproxy ${api}: no answer to "${command}" within ${timeoutMs} ms`,
        ),
      );
    }, timeoutMs);
    sock.on('connect', () => sock.end(`${command}\n`));
    sock.on('data', (d: Buffer) => chunks.push(d));
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(retryable(FailureType.Unreachable, `haproxy ${api}: "${command}": ${e.message}`, e));
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

function checkName(what: string, name: string): void {
  if (!HAPROXY_NAME.test(name))
    throw nonRetryable(
      FailureType.BadConfiguration,
      `haproxy ${what} name ${JSON.stringify(name)} has characters the runtime API cannot carry: use letters, digits, "_", ".", ":" or "-"`,
    );
}

function describe(s: HaproxyServerState): string {
  const admin = s.maint ? 'maint' : s.drain ? 'drain' : 'ready';
  const op = ['down', 'starting', 'up', 'stopping'][s.opState] ?? `op ${s.opState}`;
  return `${admin} (health ${op}, weight ${s.userWeight}, admin flags 0x${s.adminState.toString(16)})`;
}
