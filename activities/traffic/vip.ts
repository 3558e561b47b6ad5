// The writer VIP: a /32 on one host's interface, moved over SSH. Adding it announces it with a
// gratuitous ARP started in the background (arping blocks ~1 s after sending, which would sit
// inside the write blackout), so neighbours switch to the new holder at once.
import type { Cluster, Traffic } from '../../domain/inventory';
import { FailureType, nonRetryable, retryable } from '../errors';
import { shellCommand, type SshPool } from '../ssh';
import { errorMessage, hostOf } from './common';
import type {
  Holders,
  PlannedCommand,
  RouterCallOptions,
  RouterResult,
  TrafficOp,
  TrafficRouter,
} from './types';

type VipTraffic = Extract<Traffic, { type: 'vip' }>;

const MARK = 'successover:';

export class VipRouter implements TrafficRouter {
  readonly type = 'vip' as const;
  private readonly ip: string;

  constructor(
    private readonly cluster: Cluster,
    private readonly traffic: VipTraffic,
    private readonly ssh: SshPool,
    private readonly timeoutMs = 10_000,
  ) {
    this.ip = traffic.address.replace(/\/32$/, '');
  }

  /**
   * Adds the VIP (or finds it there) and announces it. "File exists" (old kernels) or "Address already
   * assigned" (kernels with extended acks) means a retry already added it.
   */
  attachCommand(): string {
    const add = shellCommand(['ip', 'addr', 'add', this.traffic.address, 'dev', this.traffic.interface]);
    const announce = this.traffic.arping
      ? `; command -v arping >/dev/null 2>&1 || echo ${MARK}no-arping; ` +
        `nohup ${shellCommand(['arping', '-U', '-c', '1', '-I', this.traffic.interface, this.ip])} </dev/null >/dev/null 2>&1 &`
      : '';
    return (
      `out=$(${add} 2>&1); rc=$?; case "$rc $out" in '0 '*) echo ${MARK}added ;; ` +
      `*'File exists'*|*'Address already assigned'*) echo ${MARK}present ;; *) echo "$out" >&2; exit $rc ;; esac${announce}`
    );
  }

  /** Removes the VIP; "Cannot assign requested address" / "Address not found" mean it was not there. */
  detachCommand(): string {
    const del = shellCommand(['ip', 'addr', 'del', this.traffic.address, 'dev', this.traffic.interface]);
    return (
      `out=$(${del} 2>&1); rc=$?; case "$rc $out" in '0 '*) echo ${MARK}removed ;; ` +
      `*'Cannot assign requested address'*|*'Address not found'*) echo ${MARK}absent ;; *) echo "$out" >&2; exit $rc ;; esac`
    );
  }

  /** Lists the VIP on any interface: a VIP on the wrong interface still attracts traffic. */
  holderCommand(): string {
    return shellCommand(['ip', '-o', 'addr', 'show', 'to', this.traffic.address]);
  }

  plan(op: TrafficOp, host: string): PlannedCommand[] {
    hostOf(this.cluster, host);
    return [{ on: `ssh ${host}`, command: op === 'attach' ? this.attachCommand() : this.detachCommand() }];
  }

  attach(host: string, options: RouterCallOptions = {}): Promise<RouterResult> {
    return this.change('attach', host, this.attachCommand(), options, (out) => {
      const changed = out.includes(`${MARK}added`);
      let detail = `${this.traffic.address} ${changed ? 'added on' : 'already on'} ${host} ${this.traffic.interface}`;
      if (this.traffic.arping)
        detail += out.includes(`${MARK}no-arping`)
          ? '; arping is not installed there: neighbours learn the move only when their ARP entry expires'
          : '; gratuitous ARP started (arping sends it in the background, within milliseconds)';
      return { changed, detail };
    });
  }

  detach(host: string, options: RouterCallOptions = {}): Promise<RouterResult> {
    return this.change('detach', host, this.detachCommand(), options, (out) => {
      const changed = out.includes(`${MARK}removed`);
      return {
        changed,
        detail: `${this.traffic.address} ${changed ? 'removed from' : 'was not on'} ${host} ${this.traffic.interface}`,
      };
    });
  }

  async holders(): Promise<Holders> {
    type Answer = { host: string; holds: boolean; reason?: string };
    const answers = await Promise.all(
      this.cluster.hosts.map(async (h): Promise<Answer> => {
        try {
          const r = await this.ssh.exec(h, this.holderCommand(), { timeoutMs: this.timeoutMs });
          if (r.code !== 0)
            return { host: h.name, holds: false, reason: r.stderr.trim() || `exit status ${r.code}` };
          return { host: h.name, holds: r.stdout.trim() !== '' };
        } catch (e) {
          return { host: h.name, holds: false, reason: errorMessage(e) };
        }
      }),
    );
    const out: Holders = { holders: [], unknown: [] };
    for (const a of answers) {
      if (a.reason !== undefined) out.unknown.push({ host: a.host, reason: a.reason });
      else if (a.holds) out.holders.push(a.host);
    }
    return out;
  }

  private async change(
    op: TrafficOp,
    host: string,
    command: string,
    options: RouterCallOptions,
    interpret: (stdout: string) => { changed: boolean; detail: string },
  ): Promise<RouterResult> {
    try {
      const h = hostOf(this.cluster, host);
      const r = await this.ssh.exec(h, command, { timeoutMs: this.timeoutMs, maxOutputBytes: 64 * 1024 });
      if (r.code !== 0)
        throw classifyIpFailure(host, op, this.traffic, r.stderr.trim() || `exit status ${r.code}`);
      // The VIP's holder takes new connections as soon as it has it.
      return { host, op, ok: true, routed: op === 'attach', ...interpret(r.stdout) };
    } catch (e) {
      if (!options.bestEffort) throw e;
      return {
        host,
        op,
        ok: false,
        changed: false,
        routed: false,
        detail: `${op} VIP on ${host} failed: ${errorMessage(e)}`,
      };
    }
  }
}

function classifyIpFailure(host: string, op: TrafficOp, t: VipTraffic, stderr: string) {
  const text = `${op} VIP ${t.address} on ${host} ${t.interface}: ${stderr}`;
  if (/Cannot find device/.test(stderr))
    return nonRetryable(FailureType.BadConfiguration, `${text}: fix traffic.interface in the inventory`);
  if (/Operation not permitted|Permission denied/.test(stderr))
    return nonRetryable(
      FailureType.Authentication,
      `${text}: the SSH user needs root (or CAP_NET_ADMIN) there`,
    );
  return retryable(FailureType.Unreachable, text);
}
