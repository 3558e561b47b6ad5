// The compose topology as Compose itself resolves it (Debian's `docker-compose config`: anchors
// merged, paths absolute), and the files it mounts, for the compose tests. No Docker engine runs
// here: `config` validates and prints without one.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, posix, resolve } from 'node:path';
import { parse } from 'yaml';

export const REPO = resolve(__dirname, '..', '..');
export const COMPOSE_FILE = join(REPO, 'docker-compose.yml');
export const DEPLOY = join(REPO, 'deploy');

export interface Mount {
  /** Absolute host path for a bind mount, the volume name for a named volume. */
  source: string;
  target: string;
  readOnly: boolean;
  bind: boolean;
}

export interface Service {
  image?: string;
  build?: { context: string; target?: string };
  command?: string[];
  entrypoint?: string[];
  environment: Record<string, string>;
  mounts: Mount[];
  ports: string[];
  depends_on: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}

export interface Compose {
  services: Record<string, Service>;
  volumes: string[];
}

export function installed(binary: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${binary}`]).status === 0;
}

/** Runs a command; returns its exit status and output together, for messages that explain a failure. */
export function run(cmd: string, args: string[], cwd = REPO): { status: number | null; output: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

// Short syntax "src:dst[:mode]" (docker-compose 1.x prints it) or long syntax (Compose v2).
function mount(v: unknown): Mount {
  if (typeof v === 'string') {
    const [source, target, mode] = v.split(':');
    return { source, target, readOnly: mode === 'ro', bind: source.startsWith('/') };
  }
  const m = v as { type: string; source: string; target: string; read_only?: boolean };
  return { source: m.source, target: m.target, readOnly: m.read_only === true, bind: m.type === 'bind' };
}

const list = (v: unknown): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v.map(String) : String(v).split(/\s+/);

function environment(v: unknown): Record<string, string> {
  if (Array.isArray(v))
    return Object.fromEntries(
      v.map((e: string) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
    );
  return Object.fromEntries(
    Object.entries((v ?? {}) as Record<string, unknown>).map(([k, x]) => [k, String(x)]),
  );
}

function dependsOn(v: unknown): Record<string, { condition: string }> {
  if (Array.isArray(v))
    return Object.fromEntries(v.map((s: string) => [s, { condition: 'service_started' }]));
  return (v ?? {}) as Record<string, { condition: string }>;
}

/** `docker-compose config` of the repository's compose file, parsed. Throws with its output. */
export function composeConfig(): Compose {
  const text = execFileSync('docker-compose', ['-f', COMPOSE_FILE, 'config'], {
    cwd: REPO,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const doc = parse(text) as { services: Record<string, Record<string, unknown>>; volumes?: object };
  const services = Object.fromEntries(
    Object.entries(doc.services).map(([name, s]) => [
      name,
      {
        image: s.image as string | undefined,
        build: s.build as Service['build'],
        command: s.command === undefined ? undefined : list(s.command),
        entrypoint: s.entrypoint === undefined ? undefined : list(s.entrypoint),
        environment: environment(s.environment),
        mounts: ((s.volumes ?? []) as unknown[]).map(mount),
        ports: ((s.ports ?? []) as unknown[]).map((p) =>
          typeof p === 'string'
            ? p
            : `${(p as { host_ip?: string }).host_ip}:${(p as { published: string }).published}:${(p as { target: string }).target}`,
        ),
        depends_on: dependsOn(s.depends_on),
        healthcheck: s.healthcheck as Service['healthcheck'],
      },
    ]),
  );
  return { services, volumes: Object.keys(doc.volumes ?? {}) };
}

/** The host file a service mounts at `target` (a file bind mount), or undefined. */
export function mountedFile(s: Service, target: string): string | undefined {
  return s.mounts.find((m) => m.bind && m.target === target)?.source;
}

/**
 * Where `path` (a file inside the container) comes from: the host file when a bind mount covers
 * it, or `volume:<name>` when a named volume does. Undefined when nothing is mounted there.
 */
export function sourceOf(s: Service, path: string): string | undefined {
  const covering = s.mounts
    .filter((m) => path === m.target || path.startsWith(`${m.target}/`))
    .sort((a, b) => b.target.length - a.target.length)[0];
  if (!covering) return undefined;
  const rest = posix.relative(covering.target, path);
  return covering.bind ? join(covering.source, rest) : `volume:${covering.source}${rest ? `/${rest}` : ''}`;
}

/** The value of `--flag=value` or `--flag value` in an argument list. */
export function flag(args: string[] | undefined, name: string): string | undefined {
  const a = args ?? [];
  const i = a.findIndex((x) => x === name || x.startsWith(`${name}=`));
  if (i < 0) return undefined;
  return a[i] === name ? a[i + 1] : a[i].slice(name.length + 1);
}

export function readYaml<T>(file: string): T {
  return parse(readFileSync(file, 'utf8')) as T;
}
