// Parses the HAProxy runtime API's `show stat` and works out which servers of a backend receive new
// connections. Pure, so it is unit-tested on captured output. `show stat` rather than `show servers
// state`: only it carries the backup flag (bck), and its status already folds admin state
// (MAINT, DRAIN) and health (UP, DOWN, "no check") the way HAProxy routes, so one call suffices.
// Columns are found by the header's names, not positions, because HAProxy versions append columns.

export interface HaproxyServerStat {
  backend: string;
  server: string;
  /** "UP", "UP 2/3", "no check", "DOWN", "DOWN 1/2", "NOLB", "DRAIN", "MAINT", "MAINT (via b/s)"... */
  status: string;
  /** Effective weight: 0 takes no new sessions. */
  weight: number;
  /** A `backup` server: gets new sessions only when no active server is usable. */
  backup: boolean;
  /** Forced, inherited or DNS maintenance; the config's "disabled" no longer counts once set ready. */
  maint: boolean;
  /** Forced or inherited drain (HAProxy shows it only while the server is up). */
  drain: boolean;
  /** Running (checked up, or not checked), not in maint or drain, weight > 0: HAProxy's srv_is_usable. */
  usable: boolean;
}

export interface RoutingOptions {
  /** `option allbackups` in the backend: every usable backup shares the load, not only the first. */
  allBackups?: boolean;
}

export class HaproxyStateError extends Error {}

// Every server status HAProxy 1.5-3.x prints; anything else is refused rather than guessed, since a
// misread status could hide a second writer.
const KNOWN_STATUS = /^(?:(?:UP|DOWN|NOLB|DRAIN|MAINT)(?: .*)?|no check)$/;
const STAT_TYPE_SERVER = '2';

export function parseShowStat(text: string, backend: string): HaproxyServerStat[] {
  const lines = text.split('\n').map((l) => l.trim());
  // The header names the columns; an error answer ("No such proxy.") has none.
  const header = lines.find((l) => l.startsWith('# ') && l.includes(','));
  if (!header) throw new HaproxyStateError(`unexpected answer to "show stat": ${firstLine(text)}`);
  const cols = splitCsv(header.slice(2));
  const at = (name: string) => {
    const i = cols.indexOf(name);
    if (i < 0) throw new HaproxyStateError(`"show stat" has no ${name} column`);
    return i;
  };
  const idx = {
    backend: at('pxname'),
    server: at('svname'),
    status: at('status'),
    weight: at('weight'),
    bck: at('bck'),
    type: at('type'),
  };
  const servers: HaproxyServerStat[] = [];
  for (const line of lines) {
    if (line === '' || line.startsWith('#')) continue;
    const f = splitCsv(line);
    // Only the columns read must be there: HAProxy versions differ in the trailing ones.
    if (f.length <= Math.max(...Object.values(idx)))
      throw new HaproxyStateError(`short "show stat" line: ${line}`);
    if (f[idx.type] !== STAT_TYPE_SERVER || f[idx.backend] !== backend) continue;
    const status = f[idx.status];
    if (!KNOWN_STATUS.test(status))
      throw new HaproxyStateError(
        `server ${backend}/${f[idx.server]} has a status "${status}" successover does not know: it cannot tell whether it takes writes`,
      );
    const weight = number(f[idx.weight], 'weight', line);
    const maint = status.startsWith('MAINT');
    const drain = status.startsWith('DRAIN');
    servers.push({
      backend,
      server: f[idx.server],
      status,
      weight,
      backup: number(f[idx.bck], 'bck', line) > 0,
      maint,
      drain,
      usable: (status === 'no check' || /^UP\b/.test(status)) && weight > 0,
    });
  }
  return servers;
}

/**
 * The servers that receive new connections, with HAProxy's backup rules: every usable active
 * server if there is one; otherwise the first usable backup (all of them with allbackups). "First"
 * is HAProxy's server list order, which `show stat` follows: configuration order, then servers
 * added at runtime (checked on 2.6.12).
 */
export function receivers(servers: HaproxyServerStat[], options: RoutingOptions = {}): HaproxyServerStat[] {
  const active = servers.filter((s) => !s.backup && s.usable);
  if (active.length > 0) return active;
  const backups = servers.filter((s) => s.backup && s.usable);
  return options.allBackups ? backups : backups.slice(0, 1);
}

/** One CSV line; HAProxy quotes a field that holds a comma or a quote (check descriptions can). */
function splitCsv(line: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(field);
      field = '';
    } else field += c;
  }
  out.push(field);
  return out;
}

function number(text: string, column: string, line: string): number {
  const n = Number(text);
  if (text === '' || !Number.isFinite(n))
    throw new HaproxyStateError(`"show stat" ${column} is not a number in: ${line}`);
  return n;
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] || '(empty)';
}
