// A persistent `sh` on a pooled SSH connection. An exec channel per command costs ~90 ms here
// (channel open, session setup, the login shell starting); writing the command to a shell that
// already runs costs a few. The VIP moves sit inside the write blackout, so that difference is
// felt by every client.
//
// Each command runs in a subshell (`exit` and `cd` cannot touch the session) with stdin from
// /dev/null (it cannot swallow the next command). After it, the shell prints a marker with a
// fresh random nonce and the exit status on stdout, and the nonce again on stderr: stdout and
// stderr travel separately, so each stream ends at its own marker. A command cannot print a
// marker it was never told, so output that merely looks like one is returned as output.
import { randomBytes } from 'node:crypto';
import type { ClientChannel } from 'ssh2';

/** The channel closed before the command reported its exit status: it may or may not have run. */
export class ShellLost extends Error {}
/** The command did not report within its time; the session is closed. */
export class ShellTimeout extends Error {}

export interface ShellOutput {
  /** The subshell's exit status: 128+N when the command died from signal N. */
  code: number;
  stdout: string;
  stderr: string;
  truncated: boolean;
}

// ASCII record separator: no shell command prints it by accident, so a marker is cheap to find.
const RS = '\x1e';

interface Pending {
  out: Cut;
  err: Cut;
  settle(e?: Error): void;
}

export class Shell {
  private dead = false;
  private current: Pending | undefined;

  /** `channel` runs `sh` reading commands from its stdin; call ready() before the first run(). */
  constructor(private readonly channel: ClientChannel) {
    // Listeners for the session's life: output between commands (a background job) is dropped,
    // never left unread, since an unread stream fills the window and stalls the shell.
    channel.on('data', (d: Buffer) => this.current?.out.push(d));
    channel.stderr.on('data', (d: Buffer) => this.current?.err.push(d));
    channel.on('close', () => this.lost('the shell channel closed'));
    channel.on('error', (e: Error) => this.lost(`the shell channel failed: ${e.message}`));
  }

  /** Usable for a new command right now. */
  get idle(): boolean {
    return !this.dead && this.current === undefined;
  }

  get closed(): boolean {
    return this.dead;
  }

  /** Waits until sh answers, dropping whatever the login scripts printed before it started. */
  async ready(timeoutMs: number): Promise<void> {
    const run = this.tryRun(':', timeoutMs, 0);
    if (!run) throw new ShellLost('the shell channel closed');
    const r = await run;
    if (r.code !== 0) throw new ShellLost(`the shell did not start (status ${r.code})`);
  }

  /**
   * Runs one command, or returns undefined at once when another command holds the session (the
   * caller opens a channel of its own instead). The check and the claim happen in one tick.
   */
  tryRun(command: string, timeoutMs: number, maxOutputBytes: number): Promise<ShellOutput> | undefined {
    if (!this.idle) return undefined;
    const nonce = randomBytes(12).toString('hex');
    const token = Buffer.from(`${RS}successover:${nonce}:`, 'latin1');
    const marker = `'\\036successover:%s:%s\\n' ${nonce}`;
    const line = `( eval ${quote(command)} ) </dev/null; printf ${marker} "$?"; printf ${marker} e >&2\n`;
    return new Promise<ShellOutput>((resolve, reject) => {
      const pending: Pending = {
        out: new Cut(token, maxOutputBytes, () => check()),
        err: new Cut(token, maxOutputBytes, () => check()),
        settle: (e) => {
          if (this.current !== pending) return;
          this.current = undefined;
          clearTimeout(timer);
          if (!e) return resolve(result());
          this.close();
          reject(e);
        },
      };
      const result = (): ShellOutput => ({
        code: Number(pending.out.trailer),
        stdout: pending.out.text(),
        stderr: pending.err.text(),
        truncated: pending.out.truncated || pending.err.truncated,
      });
      const check = () => {
        if (!pending.out.done || !pending.err.done) return;
        if (!/^\d+$/.test(pending.out.trailer))
          return pending.settle(
            new ShellLost(`unreadable exit status ${JSON.stringify(pending.out.trailer)}`),
          );
        pending.settle();
      };
      this.current = pending;
      const timer = setTimeout(
        () => pending.settle(new ShellTimeout(`no exit status within ${timeoutMs} ms`)),
        Math.max(1, timeoutMs),
      );
      this.channel.write(line);
    });
  }

  /** Ends the session; a command under way fails as lost. */
  close(): void {
    this.lost('the shell was closed');
    try {
      this.channel.close();
    } catch {
      // already closing
    }
  }

  private lost(why: string): void {
    this.dead = true;
    this.current?.settle(new ShellLost(why));
  }
}

// The same single-quote style as ssh.shellQuote, always quoted: eval gets the command verbatim.
function quote(s: string): string {
  if (s.includes('\0')) throw new Error('a shell command cannot contain a NUL byte');
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * One stream of one command: keeps the first `limit` bytes before the marker, then the marker's
 * trailer up to its newline. Bytes are held back only while they could be the start of a marker.
 */
class Cut {
  done = false;
  trailer = '';
  private found = false;
  private pending = Buffer.alloc(0);
  private readonly body: Bounded;

  constructor(
    private readonly token: Buffer,
    limit: number,
    private readonly onDone: () => void,
  ) {
    this.body = new Bounded(limit);
  }

  get truncated(): boolean {
    return this.body.truncated;
  }

  text(): string {
    return this.body.text();
  }

  push(d: Buffer): void {
    if (this.done) return; // after the marker: a background job's output, not this command's
    let buf = this.pending.length ? Buffer.concat([this.pending, d]) : d;
    if (!this.found) {
      const i = buf.indexOf(this.token);
      if (i < 0) {
        const keep = Math.min(buf.length, this.token.length - 1);
        this.body.push(buf.subarray(0, buf.length - keep));
        this.pending = Buffer.from(buf.subarray(buf.length - keep));
        return;
      }
      this.body.push(buf.subarray(0, i));
      this.found = true;
      buf = buf.subarray(i + this.token.length);
    }
    const nl = buf.indexOf(10);
    if (nl < 0) {
      this.pending = Buffer.from(buf);
      return;
    }
    this.trailer = buf.subarray(0, nl).toString('latin1');
    this.pending = Buffer.alloc(0);
    this.done = true;
    this.onDone();
  }
}

/** Keeps the first `limit` bytes and counts the rest. */
export class Bounded {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  truncated = false;
  constructor(private readonly limit: number) {}
  push(d: Buffer): void {
    if (d.length === 0) return;
    const room = this.limit - this.size;
    if (room <= 0) {
      this.truncated = true;
      return;
    }
    const part = d.length > room ? d.subarray(0, room) : d;
    if (part.length < d.length) this.truncated = true;
    this.chunks.push(Buffer.from(part));
    this.size += part.length;
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}
