// The inventory: what a DBA writes once to describe their clusters. Pure (zod only) so workflows
// can import the types; loading the YAML file and resolving secrets happen on the worker.
import { z } from 'zod';
import { lazySchema } from './lazySchema';

export const FLAVORS = ['mariadb', 'mysql'] as const;
export const PROMOTION_RULES = ['must', 'prefer', 'neutral', 'prefer_not', 'must_not'] as const;

const name = lazySchema(() =>
  z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'expected a name of letters, digits, "_", "." or "-"'),
);
const port = lazySchema(() =>
  z
    .number({ error: 'expected an integer 1-65535' })
    .int('expected an integer 1-65535')
    .min(1, 'expected an integer 1-65535')
    .max(65535, 'expected an integer 1-65535'),
);
const seconds = (min: number) => z.number().int().min(min);

/** "ssh-ed25519 AAAA..." as in known_hosts, without the host name. */
const hostKey = lazySchema(() =>
  z
    .string()
    .regex(
      /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+$/,
      'expected an OpenSSH public key "ssh-ed25519 AAAA..." (ssh-keyscan -t ed25519 HOST prints it)',
    ),
);

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6 =
  /^(?=.*:.*:)[0-9A-Fa-f:]+(:(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3})?$/;
const DNS_LABEL = '[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const DNS_NAME = new RegExp(`^(?=.{1,253}\\.?$)${DNS_LABEL}(\\.${DNS_LABEL})*\\.?$`);
/** An address a client can connect to: a runbook acting on a typo would act on the wrong server. */
export const isHostAddress = (a: string): boolean =>
  IPV4.test(a) || (IPV6.test(a) && !a.includes(':::')) || (DNS_NAME.test(a) && !/^[\d.]+$/.test(a));

/**
 * Directories a datadir must never be: a physical restore empties the datadir first
 * (find <datadir> -mindepth 1 -delete), so one of these would wipe the system.
 */
const SYSTEM_DIRS = [
  '/',
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/home',
  '/lib',
  '/lib32',
  '/lib64',
  '/media',
  '/mnt',
  '/opt',
  '/proc',
  '/root',
  '/run',
  '/sbin',
  '/srv',
  '/sys',
  '/tmp',
  '/usr',
  '/usr/bin',
  '/usr/lib',
  '/usr/local',
  '/usr/sbin',
  '/usr/share',
  '/var',
  '/var/lib',
  '/var/log',
  '/var/run',
  '/var/tmp',
];
/** Whole trees no database lives in. */
const SYSTEM_TREES = ['/bin/', '/boot/', '/dev/', '/etc/', '/proc/', '/run/', '/sbin/', '/sys/'];

export function datadirProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return 'expected an absolute path, e.g. /var/lib/mysql';
  if (/(^|\/)\.\.?(\/|$)|\/\//.test(path))
    return 'expected a plain path without "." or ".." segments or "//", e.g. /var/lib/mysql';
  const plain = path.length > 1 ? path.replace(/\/+$/, '') : path;
  const why = SYSTEM_DIRS.includes(plain)
    ? 'is a system directory'
    : SYSTEM_TREES.some((t) => `${plain}/`.startsWith(t))
      ? 'is inside a system directory'
      : undefined;
  if (why)
    return `${plain} ${why}, and a physical restore empties the datadir first: give the server's own data directory, e.g. /var/lib/mysql`;
  return undefined;
}

export const HostSchema = lazySchema(() =>
  z.strictObject({
    name,
    address: z
      .string()
      .refine(isHostAddress, 'expected an IP address or a DNS host name, e.g. 10.0.0.11 or db1.example.com'),
    port: port.default(3306),
    ssh: z
      .strictObject({
        port: port.default(22),
        hostKey,
        user: z.string().min(1).optional(),
      })
      .optional(),
    promotion: z.enum(PROMOTION_RULES).default('neutral'),
    /**
     * An option file the server reads at start that successover may write (over SSH): read_only=ON
     * when it fences or demotes this host, so a restart keeps it read-only; removed on promotion.
     */
    optionFile: z
      .string()
      .regex(
        /^\/[^\0]*\.cnf$/,
        'expected the absolute path of a .cnf file, e.g. /etc/mysql/conf.d/zz-successover.cnf',
      )
      .optional(),
    dataCenter: z.string().min(1).optional(),
    /**
     * The physical machine or hypervisor the host runs on (default: its address): a drain of that
     * machine moves the primaries it runs, and its hosts are never the candidates.
     */
    machine: z
      .string()
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,252}$/,
        'expected the name of the physical machine or hypervisor the host runs on, e.g. hv12 or hv12.example.com (letters, digits, "_", ".", ":" or "-")',
      )
      .optional(),
    /**
     * @@log_bin_basename (e.g. /var/lib/mysql/mysql-bin): where emergency recovery's salvage reads the
     * binary log of this host when its mysqld died; absent, the one index file in service.datadir.
     */
    binlogBasename: z
      .string()
      .regex(/^\/[^\0\s]+$/, 'expected an absolute path without spaces, e.g. /var/lib/mysql/mysql-bin')
      .optional(),
    /** How provisioning stops/starts mariadbd for a physical restore; absent = physical restore refused. */
    service: z
      .strictObject({
        /** The server's data directory on the host: a physical backup is restored into it. */
        datadir: z
          .string()
          .regex(/^\//, 'expected an absolute path, e.g. /var/lib/mysql')
          .superRefine((d, ctx) => {
            const problem = d.startsWith('/') ? datadirProblem(d) : undefined;
            if (problem) ctx.addIssue({ code: 'custom', message: problem });
          }),
        /** Run over SSH: starts mariadbd, returns once it answers, and succeeds when it already runs. */
        startCommand: z.string().min(1, 'expected a shell command, e.g. systemctl start mariadb'),
        /** Run over SSH: stops mariadbd, returns once it is gone, and succeeds when it is not running. */
        stopCommand: z.string().min(1, 'expected a shell command, e.g. systemctl stop mariadb'),
      })
      .optional(),
  }),
);

const cidr32 = lazySchema(() =>
  z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/32$/, 'expected an IPv4 address with /32, e.g. 10.0.0.100/32'),
);

export const TrafficSchema = lazySchema(() =>
  z.discriminatedUnion(
    'type',
    [
      z.strictObject({
        type: z.literal('vip'),
        address: cidr32,
        interface: z
          .string({ error: 'a VIP needs the network interface to add it on, e.g. interface: eth0' })
          .min(1),
        /** Gratuitous ARP so neighbours learn the new holder at once. */
        arping: z.boolean().default(true),
      }),
      z.strictObject({
        type: z.literal('haproxy'),
        /** HAProxy runtime API: "unix:/run/haproxy/admin.sock" or "tcp:127.0.0.1:9999". */
        runtimeApi: z
          .string({ error: 'haproxy needs runtimeApi, e.g. runtimeApi: unix:/run/haproxy/admin.sock' })
          .regex(/^(unix:\/.+|tcp:[^:]+:\d+)$/, 'expected "unix:/path/to/socket" or "tcp:HOST:PORT"'),
        backend: z
          .string({ error: 'haproxy needs the writer backend name, e.g. backend: mysql_writer' })
          .min(1),
        /** Inventory host name -> HAProxy server name, when they differ. */
        servers: z.record(z.string(), z.string()).default({}),
      }),
      z.strictObject({ type: z.literal('none') }),
    ],
    { error: 'expected one of vip, haproxy, none' },
  ),
);

export const HookSchema = lazySchema(() =>
  z.strictObject({
    /** Runs on the worker with the run's facts in SUCCESSOVER_* environment variables. */
    command: z.array(z.string()).min(1).optional(),
    url: z.url().optional(),
    on: z.array(z.enum(['detected', 'succeeded', 'failed'])).default(['detected', 'succeeded', 'failed']),
  }),
);

export const PolicySchema = lazySchema(() =>
  z.strictObject({
    maxLagSeconds: z.number().min(0).default(5),
    /** -1 waits for the relay log forever, 0 not at all, N seconds at most. */
    relayLogWaitSeconds: seconds(-1).default(600),
    recoveryBlockSeconds: seconds(0).default(3600),
    requireApproval: z.boolean().default(false),
    approvalTimeoutSeconds: seconds(1).default(900),
    longTransactionSeconds: seconds(0).default(60),
    /** Abort emergency recovery on errant GTIDs (default) or carry on and report them. */
    errantGtids: z.enum(['abort', 'ignore']).default('abort'),
    /**
     * When the candidate cannot take what another replica has in time: promote the most advanced
     * replica the rules allow instead (default), or promote behind it and list what is missing.
     */
    catchUp: z.enum(['most-advanced', 'promote-anyway']).default('most-advanced'),
    /**
     * How long an emergency recovery waits for a runbook that holds the cluster lock and cannot
     * step aside (past its point of no return) before it refuses, naming the holder.
     */
    lockWaitSeconds: seconds(0).default(120),
    /**
     * When a fenced old primary answers again holding nothing the new primary lacks: leave it fenced
     * for `successover run rejoin` (default), or rejoin it from the fence watch (a master-master
     * pair's side becomes the standby again, both ways).
     */
    rejoin: z.enum(['manual', 'auto']).default('manual'),
    /**
     * Emergency recovery: when the failed primary's host answers SSH and its mysqld does not, apply
     * the transactions its binary log holds and the candidate lacks to the candidate before it
     * becomes writable, for at most this long (0: never).
     */
    salvageSeconds: seconds(0).default(30),
    /** Only these hosts may be promoted (empty: all). */
    allow: z.array(z.string()).default([]),
    /** These hosts are never promoted. */
    deny: z.array(z.string()).default([]),
    /** A STONITH command run on the worker to fence a dead primary; SUCCESSOVER_HOST etc. are set. */
    fenceCommand: z.array(z.string()).min(1).optional(),
    /**
     * Emergency recovery started by an alert (the webhook receiver): the worker's probes of the
     * primary that must fail. The alert is a witness already, and every reachable replica must
     * agree as well; a recovery started any other way asks `detector.probes`.
     */
    alertProbes: z.number().int().min(1).max(100).default(1),
    detector: z
      .strictObject({
        enabled: z.boolean().default(false),
        intervalSeconds: z.number().min(0.2).default(2),
        probes: z.number().int().min(1).default(3),
      })
      .default({ enabled: false, intervalSeconds: 2, probes: 3 }),
  }),
);

/**
 * Label names selectors test (domain/fleet/select.ts). "name" and "all" are the selector's own
 * words (name=GLOB, all): a label so named could never be selected, so it is refused here.
 */
export const LABEL_NAME = /^[A-Za-z0-9]([A-Za-z0-9_./-]{0,61}[A-Za-z0-9])?$/;
/** Label values: no "," "=" "!" "*" "?" or spaces, which the selector syntax uses. */
export const LABEL_VALUE = /^[A-Za-z0-9]([A-Za-z0-9_./:-]{0,61}[A-Za-z0-9])?$/;
export const RESERVED_LABELS = ['name', 'all'];
const labelName = lazySchema(() =>
  z
    .string()
    .regex(
      LABEL_NAME,
      'expected a label name of letters, digits, "_", ".", "/" or "-", starting and ending with a letter or digit, at most 63 characters',
    )
    .refine((k) => !RESERVED_LABELS.includes(k), {
      error:
        'reserved: selectors write name=GLOB for the cluster name and "all" for every cluster; rename the label',
    }),
);
const labelValue = lazySchema(() =>
  z
    .string({ error: 'expected a string: quote a number or true/false, e.g. tier: "1"' })
    .regex(
      LABEL_VALUE,
      'expected a value of letters, digits, "_", ".", "/", ":" or "-", starting and ending with a letter or digit, at most 63 characters',
    ),
);

export const ClusterSchema = lazySchema(() =>
  z.strictObject({
    name,
    flavor: z.enum(FLAVORS),
    /** What selectors choose clusters by (`--selector tier=gold,dc=eu`), e.g. { tier: gold, dc: eu }. */
    labels: z.record(labelName, labelValue).optional(),
    hosts: z.array(HostSchema).min(2, 'a cluster needs at least 2 hosts (a primary and a replica)'),
    /** The primary when the inventory was written: a hint (runbooks move it); a mismatch is a warning. */
    primary: z.string().optional(),
    traffic: TrafficSchema.default({ type: 'none' }),
    policy: PolicySchema.default(PolicySchema.parse({})),
    hooks: z.array(HookSchema).default([]),
  }),
);

const passwordRef = lazySchema(() =>
  z
    .strictObject({
      user: z.string().min(1),
      passwordEnv: z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name')
        .optional(),
      passwordFile: z.string().min(1).optional(),
      password: z
        .never({ error: 'secrets are not written in the inventory: use passwordEnv or passwordFile' })
        .optional(),
    })
    .refine((c) => (c.passwordEnv === undefined) !== (c.passwordFile === undefined), {
      error: 'give exactly one of passwordEnv or passwordFile',
    }),
);

export const CredentialsSchema = lazySchema(() =>
  z.strictObject({
    mysql: passwordRef,
    replication: passwordRef,
    ssh: z
      .strictObject({
        user: z.string().min(1).default('root'),
        privateKeyFile: z.string().min(1),
        privateKey: z
          .never({ error: 'secrets are not written in the inventory: use privateKeyFile' })
          .optional(),
      })
      .optional(),
  }),
);

const PRIMARY_DOWN_ALERTS = ['MySQLPrimaryDown', 'MariaDBPrimaryDown'];
const RECORDED_ALERTS = [
  'MySQLReplicationLag',
  'MySQLReplicationBroken',
  'MariaDBReplicationLag',
  'MariaDBReplicationBroken',
];
const envVar = lazySchema(() =>
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name'),
);
/** A secret given by reference (an environment variable or a file), never written here. */
const secretRef = lazySchema(() => ({
  secretEnv: envVar.optional(),
  secretFile: z.string().min(1).optional(),
  secret: z
    .never({ error: 'secrets are not written in the inventory: use secretEnv or secretFile' })
    .optional(),
}));
/** Exactly one of <key>Env or <key>File: a secret given by reference, never written here. */
const oneSecretRef =
  (key: string) =>
  (o: Record<string, unknown>): boolean =>
    (o[`${key}Env`] === undefined) !== (o[`${key}File`] === undefined);

export const GrafanaWebhookSchema = lazySchema(() =>
  z
    .strictObject({
      /** The contact point's HMAC secret: Grafana signs every request with it (HMAC-SHA256). */
      ...secretRef,
      /** The contact point's signature header. */
      header: z.string().min(1).default('X-Grafana-Alerting-Signature'),
      /** The contact point's timestamp header, if set there: then "timestamp:body" is signed. */
      timestampHeader: z.string().min(1).optional(),
      /** A signed timestamp older or newer than this is refused (replay protection). */
      maxSkewSeconds: seconds(1).default(300),
    })
    .refine(oneSecretRef('secret'), { error: 'give exactly one of secretEnv or secretFile' }),
);

export const PagerDutyWebhookSchema = lazySchema(() =>
  z
    .strictObject({
      /** The V3 webhook subscription's signing secret (X-PagerDuty-Signature, v1). */
      ...secretRef,
      /**
       * PagerDuty service id or name -> cluster. Incidents carry no labels: without an entry here the
       * cluster must be written "<clusterLabel>=<name>" in the incident title.
       */
      services: z.record(z.string(), z.string()).default({}),
      /**
       * The incident field (in event.data, dotted: "incident_key") that holds the alert name, when
       * the title does not start with it; by default the title's leading alert name.
       */
      alertNameField: z
        .string()
        .regex(
          /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/,
          'expected a field name, e.g. incident_key',
        )
        .optional(),
      /** An event whose occurred_at is further from now is refused (replay protection). */
      maxSkewSeconds: seconds(1).default(300),
    })
    .refine(oneSecretRef('secret'), { error: 'give exactly one of secretEnv or secretFile' }),
);

/** The alert receiver (`successover webhook serve`): which alerts start a recovery, who may send them. */
export const WebhookSchema = lazySchema(() =>
  z
    .strictObject({
      /** The alert label that names the inventory cluster. */
      clusterLabel: z.string().min(1).default('cluster'),
      /** Labels that may name the failed primary: used only when the value, ":port" dropped, is a host. */
      primaryLabels: z.array(z.string().min(1)).default(['primary', 'instance']),
      /** Alert names (label alertname) meaning "the primary is down": only these, firing, start a recovery. */
      primaryDownAlerts: z.array(z.string().min(1)).default(PRIMARY_DOWN_ALERTS),
      /** Alert names that are accepted and logged but start nothing: lag, broken replication. */
      recordedAlerts: z.array(z.string().min(1)).default(RECORDED_ALERTS),
      /** The token senders put in "Authorization: Bearer ..." (Alertmanager, generic, Orchestrator). */
      tokenEnv: envVar.optional(),
      tokenFile: z.string().min(1).optional(),
      token: z
        .never({ error: 'secrets are not written in the inventory: use tokenEnv or tokenFile' })
        .optional(),
      /** Larger request bodies are refused with 413 before they are read further. */
      bodyLimitBytes: z
        .number()
        .int()
        .min(1024)
        .max(16 * 1024 * 1024)
        .default(256 * 1024),
      /** Grafana requests must carry this HMAC signature; without it they need the bearer token. */
      grafana: GrafanaWebhookSchema.optional(),
      /** PagerDuty requests must carry this HMAC signature; without it they need the bearer token. */
      pagerduty: PagerDutyWebhookSchema.optional(),
    })
    .refine((w) => w.tokenEnv === undefined || w.tokenFile === undefined, {
      error: 'give at most one of tokenEnv or tokenFile',
    })
    .refine((w) => Boolean(w.tokenEnv ?? w.tokenFile ?? w.grafana ?? w.pagerduty), {
      error: 'every request is authenticated: give tokenEnv or tokenFile (and/or grafana, pagerduty)',
    }),
);

export const InventorySchema = lazySchema(() =>
  z.strictObject({
    clusters: z.array(ClusterSchema).min(1, 'the inventory needs at least one cluster'),
    credentials: CredentialsSchema,
    /** Only `successover webhook serve` reads it; the worker ignores it. */
    webhook: WebhookSchema.optional(),
  }),
);

type Problem = { path: (string | number)[]; message: string };
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const field = (v: unknown, k: string): unknown =>
  v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;

/**
 * Checks that span fields (unique names, references to hosts, SSH for VIPs). They read the raw
 * document so they are reported together with field errors, not only once those are fixed.
 */
function crossCheck(doc: unknown, sources?: InventorySources): Problem[] {
  const problems: Problem[] = [];
  const clusterNames = new Map<unknown, number>();
  list(field(doc, 'clusters')).forEach((c, ci) => {
    const cname = field(c, 'name');
    const first = clusterNames.get(cname);
    const firstFile = first === undefined ? undefined : sources?.clusters[first]?.file;
    if (typeof cname === 'string' && first !== undefined)
      problems.push({
        path: ['clusters', ci, 'name'],
        message:
          firstFile !== undefined && firstFile !== sources?.clusters[ci]?.file
            ? `cluster "${cname}" is also defined in ${firstFile}: names must be unique across the inventory's files; rename or remove one`
            : `duplicate cluster name "${cname}": names must be unique`,
      });
    if (first === undefined) clusterNames.set(cname, ci);
    const hosts = list(field(c, 'hosts'));
    const hostNames = new Set<string>();
    const endpoints = new Map<string, unknown>();
    hosts.forEach((h, hi) => {
      const address = field(h, 'address');
      const port = field(h, 'port') ?? 3306;
      if (typeof address !== 'string') return;
      const endpoint = `${address.toLowerCase()}:${String(port)}`;
      if (endpoints.has(endpoint))
        problems.push({
          path: ['clusters', ci, 'hosts', hi, 'address'],
          message: `${endpoint} is also host ${String(endpoints.get(endpoint))}'s address and port in cluster ${String(cname)}: a runbook acting on one would act on the other; fix the address or the port`,
        });
      else endpoints.set(endpoint, field(h, 'name'));
    });
    hosts.forEach((h, hi) => {
      const n = field(h, 'name');
      if (typeof n !== 'string') return;
      if (hostNames.has(n))
        problems.push({
          path: ['clusters', ci, 'hosts', hi, 'name'],
          message: `duplicate host name "${n}" in cluster ${String(cname)}: rename one of them`,
        });
      hostNames.add(n);
    });
    const known = (path: (string | number)[], n: unknown) => {
      if (typeof n === 'string' && !hostNames.has(n))
        problems.push({ path, message: `unknown host "${n}": expected one of ${[...hostNames].join(', ')}` });
    };
    const policy = field(c, 'policy');
    for (const key of ['allow', 'deny'])
      list(field(policy, key)).forEach((n, i) => known(['clusters', ci, 'policy', key, i], n));
    known(['clusters', ci, 'primary'], field(c, 'primary'));
    if (field(field(c, 'traffic'), 'type') === 'vip') {
      hosts.forEach((h, hi) => {
        if (h !== null && typeof h === 'object' && field(h, 'ssh') === undefined)
          problems.push({
            path: ['clusters', ci, 'hosts', hi, 'ssh'],
            message: 'a VIP is moved over SSH: give ssh.hostKey for every host of this cluster',
          });
      });
      if (field(field(doc, 'credentials'), 'ssh') === undefined)
        problems.push({
          path: ['credentials', 'ssh'],
          message: `cluster ${String(cname)} moves a VIP over SSH: add credentials.ssh with user and privateKeyFile`,
        });
    }
  });
  return problems;
}

/** The webhook section's references to clusters, and alert names claimed twice. */
function crossCheckWebhook(doc: unknown): Problem[] {
  const problems: Problem[] = [];
  const webhook = field(doc, 'webhook');
  const clusters = list(field(doc, 'clusters')).map((c) => field(c, 'name'));
  const services = field(field(webhook, 'pagerduty'), 'services');
  if (services !== null && typeof services === 'object')
    for (const [service, cluster] of Object.entries(services))
      if (typeof cluster === 'string' && !clusters.includes(cluster))
        problems.push({
          path: ['webhook', 'pagerduty', 'services', service],
          message: `unknown cluster "${cluster}": expected one of ${clusters.map(String).join(', ')}`,
        });
  const given = (k: string, fallback: string[]) =>
    field(webhook, k) === undefined ? fallback : list(field(webhook, k));
  const down = new Set(given('primaryDownAlerts', PRIMARY_DOWN_ALERTS));
  given('recordedAlerts', RECORDED_ALERTS).forEach((n, i) => {
    if (down.has(n))
      problems.push({
        path: ['webhook', 'recordedAlerts', i],
        message: `"${String(n)}" is also in primaryDownAlerts: an alert starts a recovery or is only recorded`,
      });
  });
  return problems;
}

export type Inventory = z.infer<typeof InventorySchema>;
export type Cluster = z.infer<typeof ClusterSchema>;
export type Host = z.infer<typeof HostSchema>;
export type Traffic = z.infer<typeof TrafficSchema>;
export type Policy = z.infer<typeof PolicySchema>;
export type Webhook = z.infer<typeof WebhookSchema>;
export type Flavor = (typeof FLAVORS)[number];
export type PromotionRule = (typeof PROMOTION_RULES)[number];

/** The secret-free view of one cluster that a run records as its first step. */
export type ClusterSpec = Cluster;

export type InventoryResult = { ok: true; inventory: Inventory } | { ok: false; problems: string[] };

/**
 * For an inventory written as a directory of files merged into one document: where each part
 * came from, so a problem names the file and the path inside it.
 */
export interface InventorySources {
  /** Per cluster of the merged document: its file and its index in that file's clusters. */
  clusters: { file: string; index: number }[];
  /** The file that holds the section; absent: none does. */
  credentials?: string;
  webhook?: string;
  /** Every file read, for the message when no file holds the credentials. */
  files: string[];
}

/** Where a path of the (merged) document was written: "file: path" for a directory. */
function locator(sources?: InventorySources): (path: readonly PropertyKey[]) => string {
  if (!sources) return formatPath;
  return (path) => {
    const [top, i, ...rest] = path;
    const cluster = top === 'clusters' && typeof i === 'number' ? sources.clusters[i] : undefined;
    if (cluster) return `${cluster.file}: ${formatPath(['clusters', cluster.index, ...rest])}`;
    const file = top === 'credentials' || top === 'webhook' ? sources[top] : undefined;
    return file ? `${file}: ${formatPath(path)}` : formatPath(path);
  };
}

/**
 * Validates a parsed YAML document and reports every problem at once, each with its path (and
 * its file, given the sources of a merged directory).
 */
export function validateInventory(doc: unknown, sources?: InventorySources): InventoryResult {
  const r = InventorySchema.safeParse(doc, { reportInput: true });
  const locate = locator(sources);
  const problems = [
    ...(r.success ? [] : r.error.issues.map((i) => formatIssue(i, locate, sources))),
    ...[...crossCheck(doc, sources), ...crossCheckWebhook(doc)].map((p) => `${locate(p.path)}: ${p.message}`),
  ];
  if (r.success && problems.length === 0) return { ok: true, inventory: r.data };
  return { ok: false, problems };
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || '(top level)';
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return v.length === 0 ? 'an empty list' : `a list of ${v.length}`;
  if (typeof v === 'object') return 'a mapping';
  return String(v);
}

type Issue = z.core.$ZodIssue & { input?: unknown };

const SECRET_FIELD = /password|privatekey|secret|token/i;

function formatIssue(
  issue: Issue,
  locate: (path: readonly PropertyKey[]) => string,
  sources?: InventorySources,
): string {
  const where = locate(issue.path);
  // Never echo what was written in a secret's place: the error output may be logged.
  if (SECRET_FIELD.test(String(issue.path[issue.path.length - 1] ?? ''))) return `${where}: ${issue.message}`;
  if (sources && issue.path.length === 1 && issue.path[0] === 'credentials' && issue.input === undefined)
    return `credentials: missing: give it in exactly one of the inventory's files (${sources.files.join(', ')})`;
  switch (issue.code) {
    case 'invalid_key':
      // The key itself is wrong (a label name): name it rather than put it in the path.
      return `${locate(issue.path.slice(0, -1))}: key ${JSON.stringify(String(issue.path.at(-1)))}: ${issue.issues.map((i) => i.message).join('; ')}`;
    case 'unrecognized_keys':
      return `${where}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}: remove or correct ${issue.keys.length > 1 ? 'them' : 'it'}`;
    case 'invalid_value':
      return `${where}: expected one of ${issue.values.map(String).join(', ')}, got ${describe(issue.input)}`;
    case 'invalid_union':
      // A discriminated union reports the whole mapping; the discriminator is what was wrong.
      return `${where}: ${issue.message}, got ${describe(field(issue.input, 'type') ?? issue.input)}`;
    case 'invalid_type':
      if (issue.input === undefined && !issue.message.startsWith('Invalid input'))
        return `${where}: missing: ${issue.message}`;
      if (issue.input === undefined) return `${where}: missing (expected ${issue.expected})`;
      return `${where}: ${issue.message.startsWith('Invalid input') ? `expected ${issue.expected}` : issue.message}, got ${describe(issue.input)}`;
    default:
      return `${where}: ${issue.message}${issue.input !== undefined && issue.code !== 'custom' ? `, got ${describe(issue.input)}` : ''}`;
  }
}

export function findCluster(inv: Inventory, cluster: string): Cluster {
  const c = inv.clusters.find((x) => x.name === cluster);
  if (!c) {
    // A fleet's inventory has thousands: the first 20 say enough.
    const names = inv.clusters.map((x) => x.name);
    const more = names.length > 20 ? ` and ${names.length - 20} more` : '';
    throw new Error(
      `unknown cluster "${cluster}": the inventory has ${names.slice(0, 20).join(', ')}${more}`,
    );
  }
  return c;
}

/** The physical machine or hypervisor a host runs on: `machine:` when given, else its address. */
export function machineOf(host: Host): string {
  return host.machine ?? host.address;
}
