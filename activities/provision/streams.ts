// The copy's plumbing: SSH exec channels driven as streams. A backup goes from the donor's
// channel to the target's through the worker, with backpressure and never stored; a secret goes
// to a file through a channel's stdin, never on a command line.
import { CancelledFailure } from '@temporalio/common';
import type { ClientChannel } from 'ssh2';
import type { Host } from '../../domain/inventory';
import { ErrorType, retryable } from '../errors';
import { shellQuote } from '../shellQuote';
import type { SshPool } from '../ssh';
import { Bounded } from '../sshShell';

export interface ChannelResult {
  code: number | null;
  signal: string | null;
  stderr: string;
}

/** The last lines of a command's error output, enough to say what failed. */
export function tail(text: string): string {
  const t = text.trim();
  return t.length > 800 ? `...${t.slice(-800)}` : t || '(no output)';
}

/** The channel's exit status and stderr once it closed; stdout is left to the caller. */
export function finished(channel: ClientChannel, o: { drainStdout: boolean }): Promise<ChannelResult> {
  // An unread stdout fills the channel window and stalls the command (a restore client's output).
  if (o.drainStdout) channel.on('data', () => undefined);
  return new Promise((resolve) => {
    const err = new Bounded(64 * 1024);
    let code: number | null = null;
    let signal: string | null = null;
    channel.stderr.on('data', (d: Buffer) => err.push(d));
    channel.on('exit', (c: number | null, s?: string) => {
      code = typeof c === 'number' ? c : null;
      signal = s ?? null;
    });
    channel.on('close', () =>
      resolve({ code, signal: signal ?? (code === null ? 'connection lost' : null), stderr: err.text() }),
    );
  });
}

/** Writes `content` to `path` through stdin (never the command line), atomically, mode 0600. */
export async function writeFile(ssh: SshPool, host: Host, path: string, content: string): Promise<void> {
  const dir = path.slice(0, path.lastIndexOf('/'));
  const tmp = `${path}.tmp`;
  const command = `umask 077 && mkdir -p ${shellQuote(dir)} && cat > ${shellQuote(tmp)} && mv -f ${shellQuote(tmp)} ${shellQuote(path)}`;
  const channel = await ssh.openChannel(host, command);
  const done = finished(channel, { drainStdout: true });
  channel.end(content);
  const r = await done;
  if (r.code !== 0)
    throw retryable(ErrorType.Unreachable, `writing ${path} on ${host.name} failed: ${tail(r.stderr)}`);
}

export interface Pipe {
  donor: Host;
  donorCommand: string;
  target: Host;
  targetCommand: string;
  /** Written to the target's stdin before the first byte from the donor. */
  prelude?: string;
  onData(chunk: Buffer): void;
  signal: AbortSignal;
  /** No byte from the donor for this long fails the copy. */
  stallMs: number;
}

/**
 * Pipes the donor command's stdout into the target command's stdin, with backpressure; resolves
 * when both exited 0. Cancellation or a stall closes both channels: the remote processes then
 * read the end of their input or fail writing to a closed pipe.
 */
export async function pipe(
  open: (host: Host, command: string) => Promise<ClientChannel>,
  o: Pipe,
): Promise<void> {
  const dst = await open(o.target, o.targetCommand);
  let src: ClientChannel;
  try {
    src = await open(o.donor, o.donorCommand);
  } catch (e) {
    dst.close();
    throw e;
  }
  const srcDone = finished(src, { drainStdout: false });
  const dstDone = finished(dst, { drainStdout: true });
  if (o.prelude) dst.write(o.prelude);
  let failure: Error | undefined;
  let stopped = false;
  let srcEnded = false;
  const stop = (e: Error) => {
    failure ??= e;
    stopped = true;
    // ssh2 emits a channel's 'close' only after its stdout ended: a source paused for
    // backpressure must flow again (into nothing) or the copy would wait for it forever.
    src.resume();
    src.close();
    dst.close();
  };
  let stall: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(stall);
    stall = setTimeout(
      () =>
        stop(
          retryable(
            ErrorType.Timeout,
            `no data from ${o.donor.name} for ${o.stallMs / 1000} s: the copy stalled`,
          ),
        ),
      o.stallMs,
    );
  };
  const onAbort = () => stop(new CancelledFailure('copy cancelled'));
  if (o.signal.aborted) onAbort();
  o.signal.addEventListener('abort', onAbort);
  arm();
  src.on('data', (chunk: Buffer) => {
    if (stopped) return;
    arm();
    o.onData(chunk);
    if (!dst.write(chunk)) {
      src.pause();
      dst.once('drain', () => src.resume());
    }
  });
  src.on('end', () => {
    srcEnded = true;
    if (!stopped) dst.end();
  });
  try {
    // Whichever side ends first with a failure stops the other: a dead target must not leave
    // the donor streaming into nothing, and a failed dump must not look complete.
    const [s, d] = await Promise.all([
      srcDone.then((r) => {
        if (r.code !== 0)
          stop(
            retryable(
              ErrorType.Unreachable,
              `${o.donor.name}: the backup command failed (exit ${r.code ?? r.signal}): ${tail(r.stderr)}`,
            ),
          );
        return r;
      }),
      dstDone.then((r) => {
        if (r.code === 0 && !srcEnded)
          stop(
            retryable(
              ErrorType.Unreachable,
              `${o.target.name}: the restore command ended before the backup did: ${tail(r.stderr)}`,
            ),
          );
        else if (r.code !== 0)
          stop(
            retryable(
              ErrorType.Unreachable,
              `${o.target.name}: the restore command failed (exit ${r.code ?? r.signal}): ${tail(r.stderr)}`,
            ),
          );
        return r;
      }),
    ]);
    if (failure) throw failure;
    if (s.code !== 0 || d.code !== 0) throw retryable(ErrorType.Unreachable, 'the copy stream failed');
  } finally {
    clearTimeout(stall);
    o.signal.removeEventListener('abort', onAbort);
  }
}
