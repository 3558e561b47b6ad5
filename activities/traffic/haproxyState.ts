// Parses the HAProxy runtime API's `show servers state BACKEND`. Pure, so it is unit-tested on
// captured output. Columns are found by the header's names, not positions, because HAProxy
// versions append columns.

export interface HaproxyServerState {
  backend: string;
  server: string;
  address: string;
  /** srv_op_state: 0 stopped (health check down), 1 starting, 2 running, 3 stopping. */
  opState: number;
  /** srv_admin_state bit flags (maintenance, drain). */
  adminState: number;
  userWeight: number;
  /** Forced, inherited, resolution or hostname maintenance. */
  maint: boolean;
  /** Forced or inherited drain: no new sessions. */
  drain: boolean;
  /** Admin-wise ready and weighted: HAProxy will route new writer sessions here (health permitting). */
  routable: boolean;
}

// SRV_ADMF_* from HAProxy's include/haproxy/server-t.h.
const ADMF_FMAINT = 0x01;
const ADMF_IMAINT = 0x02;
const ADMF_FDRAIN = 0x08;
const ADMF_IDRAIN = 0x10;
const ADMF_RMAINT = 0x20;
const ADMF_HMAINT = 0x40;
// CMAINT (0x04) only records "disabled" in the configuration: `set server state ready` leaves it set
// while the server is up and taking traffic, so like HAProxy's SRV_ADMF_MAINT it is not maintenance.
const MAINT = ADMF_FMAINT | ADMF_IMAINT | ADMF_RMAINT | ADMF_HMAINT;
const DRAIN = ADMF_FDRAIN | ADMF_IDRAIN;

export class HaproxyStateError extends Error {}

export function parseServersState(text: string): HaproxyServerState[] {
  const lines = text.split('\n').map((l) => l.trim());
  const header = lines.find((l) => l.startsWith('#'));
  if (!header) throw new HaproxyStateError(`unexpected answer to "show servers state": ${firstLine(text)}`);
  const cols = header.replace(/^#\s*/, '').split(/\s+/);
  const at = (name: string) => {
    const i = cols.indexOf(name);
    if (i < 0) throw new HaproxyStateError(`"show servers state" has no ${name} column`);
    return i;
  };
  const idx = {
    backend: at('be_name'),
    server: at('srv_name'),
    address: at('srv_addr'),
    op: at('srv_op_state'),
    admin: at('srv_admin_state'),
    weight: at('srv_uweight'),
  };
  const servers: HaproxyServerState[] = [];
  for (const line of lines) {
    if (line === '' || line.startsWith('#') || /^\d+$/.test(line)) continue;
    const f = line.split(/\s+/);
    if (f.length < cols.length) throw new HaproxyStateError(`short "show servers state" line: ${line}`);
    const adminState = Number(f[idx.admin]);
    const userWeight = Number(f[idx.weight]);
    const maint = (adminState & MAINT) !== 0;
    const drain = (adminState & DRAIN) !== 0;
    servers.push({
      backend: f[idx.backend],
      server: f[idx.server],
      address: f[idx.address],
      opState: Number(f[idx.op]),
      adminState,
      userWeight,
      maint,
      drain,
      routable: !maint && !drain && userWeight > 0,
    });
  }
  return servers;
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] || '(empty)';
}
