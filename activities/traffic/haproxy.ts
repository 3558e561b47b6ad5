// HAProxy as the writer router, through its runtime API (stats socket, level admin). Detach puts
// the server in maintenance and cuts its open sessions, so no client keeps writing to a demoted
// primary; every change is read back with `show stat`, which also says who takes new connections
// under HAProxy's backup rules (a master-master pair's standby is a `backup` server: attaching it
// only makes it ready, and new connections reach it once the active primary is detached).
import { createConnection } from 'node:net';
import type { Cluster, Traffic } from '../../domain/inventory';
import { FailureType, nonRetryable, retryable } from '../errors';
import { errorMessage, hostOf } from './common';
import { parseShowStat, receivers, type HaproxyServerStat, type RoutingOptions } from './haproxyState';
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
    // The runtime API does not show `option allbackups`: HAProxy's default unless told.
    private readonly routing: RoutingOptions = {},
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
    return [...this.commands(op, host), this.statCommand()].map((command) => ({ on, command }));
  }

  /** The backend's servers (type 4: no frontend or backend rows), in HAProxy's list order. */
  statCommand(): string {
    return `show stat ${this.backend()} 4 -1`;
  }

  /** The backend's servers as HAProxy reports them now. */
  async servers(): Promise<HaproxyServerStat[]> {
    const command = this.statCommand();
    const out = await this.call(command);
    try {
      return parseShowStat(out, this.backend());
    } catch (e) {
      // "No such proxy." and friends come back as plain text.
      const hint = /no such proxy|can't find/i.test(out) ? ': check traffic.backend in the inventory' : '';
      throw nonRetryable(
        FailureType.BadConfiguration,
        `haproxy ${this.traffic.runtimeApi}: ${command}: ${errorMessage(e)}${hint}`,
      );
    }
  }

  detach(host: string, options: RouterCallOptions = {}): Promise<RouterResult> {
    return this.change('detach', host, options, (s) => s.maint);
  }

  attach(host: string, options: RouterCallOptions = {}): Promise<RouterResult> {
    return this.change('attach', host, options, (s) => !s.maint && !s.drain);
  }

  /** Who receives new writer connections now: one `show stat`, as this runs inside the blackout. */
  async holders(): Promise<Holders> {
    return { holders: this.receiving(await this.servers()), unknown: [] };
  }

  /** Receivers by inventory host name; a server that is no host keeps its name: it breaks the invariant. */
  private receiving(servers: HaproxyServerStat[]): string[] {
    const byServer = new Map(this.cluster.hosts.map((h) => [this.traffic.servers[h.name] ?? h.name, h.name]));
    return receivers(servers, this.routing).map((s) => byServer.get(s.server) ?? s.server);
  }

  private backend(): string {
    checkName('backend', this.traffic.backend);
    return this.traffic.backend;
  }

  private async change(
    op: TrafficOp,
    host: string,
    options: RouterCallOptions,
    reached: (s: HaproxyServerStat) => boolean,
  ): Promise<RouterResult> {
    try {
      const server = this.serverName(host);
      const before = this.find(await this.servers(), server);
      for (const command of this.commands(op, host)) {
        const out = (await this.call(command)).trim();
        if (out !== '') throw this.commandFailure(command, out);
      }
      const servers = await this.servers();
      const after = this.find(servers, server);
      if (!reached(after))
        throw nonRetryable(
          FailureType.BadConfiguration,
          `haproxy ${this.backend()}/${server}: after ${op} the server state is ${describe(after)}: ` +
            'something else holds it (a tracked server in maintenance or drain, DNS resolution)',
        );
      // `changed` reads the status, which shows a drain only while the server is up: a drained
      // server that is also DOWN counts as ready. Only the timeline's wording depends on it.
      const takers = this.receiving(servers);
      return {
        host,
        op,
        ok: true,
        changed: !reached(before),
        routed: takers.includes(host),
        detail: `${this.backend()}/${server} ${describe(after)}: ${routing(host, after, takers)}`,
      };
    } catch (e) {
      if (!options.bestEffort) throw e;
      return {
        host,
        op,
        ok: false,
        changed: false,
        routed: false,
        detail: `${op} ${host} on haproxy failed: ${errorMessage(e)}`,
      };
    }
  }

  private find(servers: HaproxyServerStat[], server: string): HaproxyServerStat {
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

function describe(s: HaproxyServerStat): string {
  return `${s.status} (${s.backup ? 'backup' : 'active'}, weight ${s.weight})`;
}

/** Where new connections go after the op, in the words the run's timeline shows. */
function routing(host: string, s: HaproxyServerStat, takers: string[]): string {
  if (takers.includes(host))
    return takers.length > 1
      ? `takes new connections, shared with ${takers.filter((t) => t !== host).join(', ')}`
      : 'takes new connections';
  const elsewhere =
    takers.length > 0 ? `new connections go to ${takers.join(', ')}` : 'no server takes new connections';
  if (s.maint || s.drain) return elsewhere;
  if (!s.usable) return `ready but not usable (${s.status}, weight ${s.weight}); ${elsewhere}`;
  // A usable backup behind a usable active server: the pair's standby, waiting for the detach.
  return `ready as a backup; ${elsewhere} until the active server is detached`;
}
