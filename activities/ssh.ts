// SSH to the database hosts: one pinned-key connection per host, opened on demand and reused,
// and on it one persistent shell that runs commands one after the other (activities/sshShell.ts).
// A new connection costs ~0.8 s here and an exec channel ~90 ms, so runbooks warm() the pool
// before a critical section and every later command is written to an already running shell.
// A worker serving many clusters keeps at most maxConnections open (activities/lru.ts): the least
// recently used idle one is closed for a new host, and one unused for idleMs is closed anyway;
// never one with a command running or a channel open.
import { Client, type ClientChannel, type ConnectConfig } from 'ssh2';
import type { ApplicationFailure } from '@temporalio/common';
import type { Host } from '../domain/inventory';
import { FailureType, nonRetryable, retryable } from './errors';
import { fingerprint, hostKeyAlgorithms, parseHostKey, type PinnedKey } from './sshHostKey';
import { limitFromEnv, LruMap, sweepEvery } from './lru';
import { Bounded, Shell, ShellTimeout, type ShellOutput } from './sshShell';

// Their former home; lab/ and the tests still import them from here.
export { shellCommand, shellQuote } from './shellQuote';
export { fingerprint, parseHostKey, type PinnedKey } from './sshHostKey';

export interface ExecOptions {
  /** The whole command, from channel open to exit status. */
  timeoutMs?: number;
  /** Per stream (stdout, stderr): the first N bytes are kept, the rest is read and dropped. */
  maxOutputBytes?: number;
  /**
   * Run on an exec channel of its own instead of the host's shell: for a command that may outlive
   * its timeout, which would cost the shell (and the connection) when it does.
   */
  ownChannel?: boolean;
}

export interface ExecResult {
  /**
   * Exit status; null when the command died from a signal or the server sent none. Through the
   * shell, a command killed by signal N reports 128+N, as sh does.
   */
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** True when stdout or stderr was longer than maxOutputBytes. */
  truncated: boolean;
}

export interface SshPoolOptions {
  /** Default login; a host's ssh.user overrides it. */
  user: string;
  privateKey: Buffer | string;
  passphrase?: string;
  connectTimeoutMs?: number;
  /** Keepalives make a connection to a dead host fail instead of hanging forever. */
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  /** Hosts connected at once; default SUCCESSOVER_SSH_CONNECTIONS_MAX, else 64. */
  maxConnections?: number;
  /** A connection unused this long is closed; default SUCCESSOVER_SSH_IDLE_SECONDS, else 5 minutes. */
  idleMs?: number;
  /** Where those variables are read; default process.env. */
  env?: NodeJS.ProcessEnv;
}

export const DEFAULT_MAX_SSH_CONNECTIONS = 64;
export const DEFAULT_SSH_IDLE_SECONDS = 300;
export const DEFAULT_EXEC_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;

interface Conn {
  client: Client;
  ready: Promise<Client>;
  dead: boolean;
  /** The host's shell, once opened (or being opened) on this connection. */
  shell?: Promise<Shell>;
  /** The same shell once it answered, for synchronous checks. */
  openShell?: Shell;
}

export class SshPool {
  private readonly conns: LruMap<Conn>;
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly opts: SshPoolOptions) {
    const env = opts.env ?? process.env;
    const idleMs =
      opts.idleMs ?? limitFromEnv(env, 'SUCCESSOVER_SSH_IDLE_SECONDS', DEFAULT_SSH_IDLE_SECONDS) * 1000;
    this.conns = new LruMap<Conn>({
      max:
        opts.maxConnections ??
        limitFromEnv(env, 'SUCCESSOVER_SSH_CONNECTIONS_MAX', DEFAULT_MAX_SSH_CONNECTIONS),
      idleMs,
      evict: (_key, conn) => void endClient(conn),
    });
    // Unref'd: an idle pool never keeps the process alive.
    this.sweeper = setInterval(() => this.conns.sweep(), sweepEvery(idleMs)).unref();
  }

  /** Hosts with a connection open (or being opened) now. */
  get size(): number {
    return this.conns.size;
  }

  /**
   * Opens (or checks) the connection and the shell of each host in parallel, so the next command
   * on each costs a write and a read; throws the first classified failure.
   */
  async warm(hosts: readonly Host[], timeoutMs = DEFAULT_EXEC_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await Promise.all(hosts.map((h) => this.using(h, () => this.shell(h, deadline))));
  }

  /** Runs fn with the host's connection counted in use: the bound and the idle close spare it. */
  private async using<T>(host: Host, fn: () => Promise<T>): Promise<T> {
    const done = this.conns.use(keyOf(host));
    try {
      return await fn();
    } finally {
      done();
    }
  }

  /** True when a live, authenticated connection to this host is in the pool. */
  isConnected(host: Host): boolean {
    const c = this.conns.get(keyOf(host));
    return c !== undefined && !c.dead;
  }

  /** True when the host's shell is open and answered: its next command skips any channel setup. */
  hasShell(host: Host): boolean {
    const c = this.conns.get(keyOf(host));
    return c !== undefined && !c.dead && c.openShell !== undefined && !c.openShell.closed;
  }

  /** The underlying connection object, so tests can tell reuse from reconnection. */
  async connectionId(host: Host): Promise<object> {
    return this.connection(host);
  }

  exec(host: Host, command: string, options: ExecOptions = {}): Promise<ExecResult> {
    return this.using(host, () => this.execNow(host, command, options));
  }

  private async execNow(host: Host, command: string, options: ExecOptions): Promise<ExecResult> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    if (!options.ownChannel) {
      const { shell, client } = await this.shell(host, deadline);
      const run = shell.tryRun(
        command,
        deadline - Date.now(),
        options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES,
      );
      // Busy with another command: this one takes a channel of its own rather than queueing.
      if (run) return this.shellResult(host, client, run, timeoutMs);
    }
    const { client, channel } = await this.openExecChannel(host, command, deadline);
    return this.collect(host, client, channel, deadline, timeoutMs, options.maxOutputBytes);
  }

  /**
   * An exec channel the caller drives: writes its stdin, reads stdout/stderr, closes it. For a
   * stream (a backup piped from one host into another) or a secret fed on stdin, never on the
   * command line. Nothing has run when opening fails, so it is retried once on a fresh connection.
   */
  async openChannel(
    host: Host,
    command: string,
    timeoutMs = DEFAULT_EXEC_TIMEOUT_MS,
  ): Promise<ClientChannel> {
    // In use until the caller's channel closes: a stream may run for hours.
    const done = this.conns.use(keyOf(host));
    try {
      const { channel } = await this.openExecChannel(host, command, Date.now() + timeoutMs);
      channel.once('close', done);
      return channel;
    } catch (e) {
      done();
      throw e;
    }
  }

  /**
   * A pooled connection can have died since its last use (host rebooted, idle NAT). Opening the
   * channel fails before the command runs, so one retry on a fresh connection is safe.
   */
  private async openExecChannel(
    host: Host,
    command: string,
    deadline: number,
  ): Promise<{ client: Client; channel: ClientChannel }> {
    for (let attempt = 0; ; attempt++) {
      const client = await this.connection(host, deadline);
      try {
        return { client, channel: await openExec(client, command, deadline - Date.now()) };
      } catch (e) {
        this.drop(host, client);
        if (attempt === 0 && Date.now() < deadline) continue;
        throw retryable(
          FailureType.Unreachable,
          `ssh ${host.name}: cannot start command: ${msg(e)}`,
          asError(e),
        );
      }
    }
  }

  /** The host's shell, opened now when there is none or it died. */
  private async shell(host: Host, deadline: number): Promise<{ shell: Shell; client: Client }> {
    // Nothing has been written to a shell that fails to open, so one retry on a fresh
    // connection is safe, as for an exec channel.
    let failures = 0;
    for (;;) {
      const client = await this.connection(host, deadline);
      const conn = this.conns.get(keyOf(host));
      if (conn?.client !== client) continue; // dropped meanwhile: connection() opens the next one
      const current = conn.shell;
      if (current) {
        const open = await current.catch(() => undefined);
        if (open && !open.closed) return { shell: open, client };
        if (conn.shell !== current) continue; // another caller is opening the replacement
      }
      const opening = openShell(client, deadline - Date.now());
      conn.shell = opening;
      try {
        const shell = await opening;
        if (conn.shell === opening) conn.openShell = shell;
        return { shell, client };
      } catch (e) {
        if (conn.shell === opening) conn.shell = undefined;
        this.drop(host, client);
        if (++failures < 2 && Date.now() < deadline) continue;
        throw retryable(
          FailureType.Unreachable,
          `ssh ${host.name}: cannot start a shell: ${msg(e)}`,
          asError(e),
        );
      }
    }
  }

  private async shellResult(
    host: Host,
    client: Client,
    run: Promise<ShellOutput>,
    timeoutMs: number,
  ): Promise<ExecResult> {
    try {
      const r = await run;
      return { code: r.code, signal: null, stdout: r.stdout, stderr: r.stderr, truncated: r.truncated };
    } catch (e) {
      // The command was written: it may have run, so it is never sent again here. The caller
      // decides (the VIP commands are idempotent, and activities retry).
      if (e instanceof ShellTimeout) {
        // The connection may be what hangs; the next command starts on a fresh one.
        this.drop(host, client, true);
        throw retryable(
          FailureType.Unreachable,
          `ssh ${host.name}: command did not finish within ${timeoutMs} ms`,
        );
      }
      throw retryable(
        FailureType.Unreachable,
        `ssh ${host.name}: connection lost before the command reported its exit (${msg(e)})`,
        asError(e),
      );
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    await Promise.all(this.conns.drain().map((c) => endClient(c)));
  }

  private collect(
    host: Host,
    client: Client,
    channel: ClientChannel,
    deadline: number,
    timeoutMs: number,
    maxOutputBytes = DEFAULT_MAX_OUTPUT_BYTES,
  ): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      const out = new Bounded(maxOutputBytes);
      const err = new Bounded(maxOutputBytes);
      let code: number | null = exits.get(channel)?.code ?? null;
      let signal: string | null = exits.get(channel)?.signal ?? null;
      // Both streams are always read to the end: an unread stream fills its window and stalls the command.
      channel.on('data', (d: Buffer) => out.push(d));
      channel.stderr.on('data', (d: Buffer) => err.push(d));
      channel.on('exit', (c: number | null, s?: string) => {
        code = typeof c === 'number' ? c : null;
        signal = s ?? null;
      });
      const timer = setTimeout(
        () => {
          // Best effort: OpenSSH refuses to signal root sessions ("requires privilege separation"), so
          // a command that must not outlive its timeout should bound itself (e.g. coreutils timeout).
          try {
            channel.signal('KILL');
          } catch {
            // the channel is already closing
          }
          channel.close();
          // The connection may be what hangs; the next exec starts on a fresh one.
          this.drop(host, client, true);
          reject(
            retryable(
              FailureType.Unreachable,
              `ssh ${host.name}: command did not finish within ${timeoutMs} ms`,
            ),
          );
        },
        Math.max(0, deadline - Date.now()),
      );
      channel.on('close', () => {
        clearTimeout(timer);
        // OpenSSH always reports exit-status or exit-signal; neither means the connection went away.
        if (code === null && signal === null) {
          this.drop(host, client);
          return reject(
            retryable(
              FailureType.Unreachable,
              `ssh ${host.name}: connection lost before the command reported its exit`,
            ),
          );
        }
        resolve({
          code,
          signal,
          stdout: out.text(),
          stderr: err.text(),
          truncated: out.truncated || err.truncated,
        });
      });
    });
  }

  private drop(host: Host, client: Client, graceful = false): void {
    const k = keyOf(host);
    const c = this.conns.get(k);
    if (c && c.client === client) {
      c.dead = true;
      this.conns.delete(k);
    }
    // A dropped connection must not linger: its keepalive timer would keep the worker busy. A graceful
    // end first flushes what was queued (the KILL signal for a timed-out command).
    if (!graceful) return void client.destroy();
    client.end();
    setTimeout(() => client.destroy(), 1000).unref();
  }

  private connection(host: Host, deadline?: number): Promise<Client> {
    if (this.closed) return Promise.reject(new Error('the SSH pool is closed'));
    const k = keyOf(host);
    const existing = this.conns.get(k);
    if (existing && !existing.dead) return existing.ready;
    const conn = this.open(host, deadline);
    this.conns.set(k, conn);
    conn.ready.catch(() => {
      if (this.conns.get(k) === conn) this.conns.delete(k);
    });
    return conn.ready;
  }

  private open(host: Host, deadline?: number): Conn {
    const client = new Client();
    const conn: Conn = { client, dead: false, ready: Promise.resolve(client) };
    if (!host.ssh) {
      conn.dead = true;
      conn.ready = Promise.reject(
        nonRetryable(
          FailureType.BadConfiguration,
          `host ${host.name} has no ssh section: add ssh.hostKey to it`,
        ),
      );
      return conn;
    }
    let pinned: PinnedKey;
    try {
      pinned = parseHostKey(host.ssh.hostKey);
    } catch (e) {
      conn.dead = true;
      conn.ready = Promise.reject(
        nonRetryable(FailureType.BadConfiguration, `host ${host.name} ssh.hostKey: ${msg(e)}`),
      );
      return conn;
    }
    const connectTimeoutMs = Math.min(
      this.opts.connectTimeoutMs ?? 10_000,
      deadline === undefined ? Infinity : Math.max(1, deadline - Date.now()),
    );
    let mismatch: ApplicationFailure | undefined;
    const config: ConnectConfig = {
      host: host.address,
      port: host.ssh.port,
      username: host.ssh.user ?? this.opts.user,
      privateKey: this.opts.privateKey,
      passphrase: this.opts.passphrase,
      readyTimeout: connectTimeoutMs,
      keepaliveInterval: this.opts.keepaliveIntervalMs ?? 5000,
      keepaliveCountMax: this.opts.keepaliveCountMax ?? 3,
      algorithms: { serverHostKey: hostKeyAlgorithms(pinned.type) },
      hostVerifier: (key: Buffer) => {
        if (key.equals(pinned.blob)) return true;
        mismatch = nonRetryable(
          FailureType.HostKeyMismatch,
          `ssh ${host.name} (${host.address}:${host.ssh?.port}): host key mismatch: the inventory pins ` +
            `${pinned.type} ${fingerprint(pinned.blob)} but the host presented ${fingerprint(key)}. ` +
            'Refusing to connect: the host was reinstalled, or something is impersonating it.',
          { host: host.name, expected: fingerprint(pinned.blob), presented: fingerprint(key) },
        );
        return false;
      },
    };
    conn.ready = new Promise<Client>((resolve, reject) => {
      let settled = false;
      const fail = (e: unknown) => {
        conn.dead = true;
        if (settled) return;
        settled = true;
        client.destroy();
        reject(mismatch ?? classifySshError(host, e));
      };
      client.once('ready', () => {
        settled = true;
        resolve(client);
      });
      client.on('error', fail);
      client.on('close', () => {
        conn.dead = true;
        if (!settled) fail(new Error('connection closed during the handshake'));
      });
      try {
        client.connect(config);
      } catch (e) {
        // ssh2 throws synchronously for an unusable private key.
        conn.dead = true;
        settled = true;
        reject(
          nonRetryable(
            FailureType.BadConfiguration,
            `ssh ${host.name}: ${msg(e)} (check credentials.ssh.privateKeyFile)`,
          ),
        );
      }
    });
    return conn;
  }
}

function endClient(c: Conn): Promise<void> {
  return new Promise((resolve) => {
    const client = c.client;
    if (c.dead) {
      client.destroy();
      return resolve();
    }
    c.dead = true;
    client.once('close', () => resolve());
    client.end();
    // A peer that never answers the disconnect must not hold close() up.
    setTimeout(() => {
      client.destroy();
      resolve();
    }, 1000).unref();
  });
}

function classifySshError(host: Host, e: unknown): ApplicationFailure {
  const err = e as { level?: string; code?: string; message?: string };
  const where = `ssh ${host.ssh?.user ? `${host.ssh.user}@` : ''}${host.name} (${host.address}:${host.ssh?.port})`;
  if (err.level === 'client-authentication')
    return nonRetryable(
      FailureType.Authentication,
      `${where}: authentication failed: ${err.message}: is the worker's public key in the host's authorized_keys?`,
    );
  return retryable(FailureType.Unreachable, `${where}: ${err.message ?? String(e)}`, asError(e));
}

/**
 * A command's exit, recorded from the moment its channel opens: a quick command's exit-status can
 * arrive in the same read as the channel's confirmation, and ssh2 emits it then, before any code
 * awaiting the channel could listen (the exit was lost, and the command looked cut off).
 */
const exits = new WeakMap<ClientChannel, { code: number | null; signal: string | null }>();

function openExec(client: Client, command: string, timeoutMs: number): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('no answer to the channel request')),
      Math.max(1, timeoutMs),
    );
    try {
      client.exec(command, (err, channel) => {
        clearTimeout(timer);
        if (err) return reject(err);
        channel.once('exit', (c: number | null, sig?: string) =>
          exits.set(channel, { code: typeof c === 'number' ? c : null, signal: sig ?? null }),
        );
        resolve(channel);
      });
    } catch (e) {
      clearTimeout(timer);
      reject(e);
    }
  });
}

/** `sh` reading commands from the channel; `exec` so the login shell does not stay in between. */
async function openShell(client: Client, timeoutMs: number): Promise<Shell> {
  const t0 = Date.now();
  const shell = new Shell(await openExec(client, 'exec sh', timeoutMs));
  try {
    await shell.ready(Math.max(1, timeoutMs - (Date.now() - t0)));
  } catch (e) {
    shell.close();
    throw e;
  }
  return shell;
}

/** The pinned key is part of it: an entry with another key never reuses a verified connection. */
function keyOf(host: Host): string {
  return `${host.ssh?.user ?? ''}@${host.address}:${host.ssh?.port ?? 22} ${host.ssh?.hostKey ?? ''}`;
}

function msg(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function asError(e: unknown): Error | undefined {
  return e instanceof Error ? e : undefined;
}
