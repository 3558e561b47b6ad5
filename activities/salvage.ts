// Salvage: reads the failed primary's binary log on its host over SSH, as SQL text, into
// transactions (readSalvage), and applies those the candidate lacks to it, one at a time with
// their own GTIDs, until a deadline (applySalvage). The decisions are in domain/salvage; the
// commands in domain/dialects/salvage*.ts. Not registered as activities yet: the emergency
// workflow's activity wraps these two with its own lookups and failure types.
import type { PoolConnection } from 'mysql2/promise';
import { dialectFor } from '../domain/dialects';
import {
  basenameOfIndex,
  chooseBinlogIndex,
  parseBinlogIndex,
  salvageDialectFor,
} from '../domain/dialects/salvageFor';
import type { Flavor, Host } from '../domain/inventory';
import {
  appliedAreIn,
  applyPrecheck,
  candidateState,
  salvageFailure,
  nextFileCount,
  parseBinlogText,
  readVerdict,
  sessionSurvives,
  statementFailure,
  summarizeGtids,
  timedOut,
  type BinlogTransaction,
  type SalvageApplyFailure,
  type SalvageApplyResult,
  type SalvageRead,
  type SalvageReadFailure,
} from '../domain/salvage';
import { shellCommand } from './shellQuote';
import type { ExecOptions, ExecResult } from './ssh';
import { probe } from './sql/run';

export type { SalvageApplyResult, SalvageRead } from '../domain/salvage';

/** Runs one command on a host: SshPool.exec (a fake in tests). */
export interface SalvageRunner {
  exec(host: Host, command: string, options?: ExecOptions): Promise<ExecResult>;
}

export interface SalvageReadInput {
  host: Host;
  flavor: Flavor;
  /** The failed primary's datadir: relative index entries are relative to it. */
  datadir: string;
  /** Its @@log_bin_basename, read while it answered; null: the one binlog index in the datadir. */
  binlogBasename: string | null;
  /** What the candidate has, as salvageStartPosition gives it (also selectSalvage's readFrom). */
  startPosition: string;
  deadlineSeconds: number;
  /** Of the tool's output, kept; the rest is read and dropped, and the read says outputTruncated. */
  maxOutputBytes?: number;
}

export const DEFAULT_SALVAGE_OUTPUT_BYTES = 256 * 1024 * 1024;
/** coreutils `timeout` exits with this when it stopped the command. */
const TIMED_OUT = 124;

export async function readSalvage(ssh: SalvageRunner, input: SalvageReadInput): Promise<SalvageRead> {
  const started = Date.now();
  const deadline = started + input.deadlineSeconds * 1000;
  const dialect = salvageDialectFor(input.flavor);
  const fail = (failure: SalvageReadFailure, message: string, messages: string[] = []): SalvageRead => ({
    ok: false,
    failure,
    message: `${input.host.name}: ${message}`,
    messages,
    seconds: (Date.now() - started) / 1000,
  });
  /**
   * The index is listed through the host's open shell (the fence used it a moment ago): a channel
   * of its own costs 20-50 ms a command on a busy host. The tool's output, which may be large and
   * may outlive its deadline, has a channel of its own, so a stuck read never costs the shell.
   */
  const run = async (
    argv: string[],
    { maxOutputBytes = 1024 * 1024, ownChannel = false } = {},
  ): Promise<ExecResult | SalvageRead> => {
    const left = deadline - Date.now();
    if (left < 1000) return fail('deadline', `no time left to read (${input.deadlineSeconds} s)`);
    // The tool bounds itself: OpenSSH does not signal a root session, and a read outliving its
    // deadline would only compete with the recovery for the host's disk.
    const bounded = ['timeout', '-k', '1', `${Math.max(1, Math.floor(left / 1000) - 1)}`, ...argv];
    try {
      const options = { timeoutMs: left, maxOutputBytes, ownChannel };
      return await ssh.exec(input.host, shellCommand(bounded), options);
    } catch (e) {
      return fail('unreachable', (e as Error).message);
    }
  };
  const failed = (r: ExecResult | SalvageRead): r is SalvageRead => 'ok' in r;

  let basename = input.binlogBasename;
  if (basename === null) {
    const found = await run(dialect.findIndexes(input.datadir));
    if (failed(found)) return found;
    const index = found.code === 0 ? chooseBinlogIndex(found.stdout) : null;
    if (index === null)
      return fail(
        'no-index',
        `no single binary log index in ${input.datadir}: ${found.stdout || found.stderr}`,
      );
    basename = basenameOfIndex(index);
  }
  const listed = await run(dialect.listFiles(basename));
  if (failed(listed)) return listed;
  if (listed.code !== 0) return fail('no-index', `cannot read ${basename}.index: ${listed.stderr.trim()}`);
  const all = parseBinlogIndex(listed.stdout, input.datadir);
  if (all.length === 0) return fail('no-index', `${basename}.index lists no file`);

  for (let count = 1; ; count = nextFileCount(count, all.length)) {
    const files = all.slice(-count);
    const maxBytes = input.maxOutputBytes ?? DEFAULT_SALVAGE_OUTPUT_BYTES;
    const r = await run(dialect.printTransactions(files, input.startPosition), {
      maxOutputBytes: maxBytes,
      ownChannel: true,
    });
    if (failed(r)) return r;
    const stoppedAtDeadline = r.code === TIMED_OUT;
    const outcome = dialect.readOutcome(stoppedAtDeadline ? 0 : r.code, r.stderr);
    const parsed = parseBinlogText(input.flavor, r.stdout);
    const verdict = readVerdict({
      ...input,
      outcome,
      parsed,
      stoppedAtDeadline,
      more: count < all.length,
      tool: dialect.tool,
    });
    const messages = [...outcome.messages];
    if (stoppedAtDeadline) messages.push(`stopped at the deadline (${input.deadlineSeconds} s)`);
    if (verdict.next === 'read-more') continue;
    if (verdict.next === 'fail') return fail(verdict.failure, verdict.message, messages);
    return {
      ok: true,
      files,
      filesInIndex: all.length,
      parsed,
      outcome: verdict.outcome,
      torn: outcome.torn,
      outputTruncated: r.truncated,
      messages,
      seconds: (Date.now() - started) / 1000,
    };
  }
}

export interface SalvageApplyInput {
  flavor: Flavor;
  /** selectSalvage's `apply`, in log order. */
  transactions: readonly BinlogTransaction[];
  /** ParsedBinlog.sessionPrelude: sent once, before the first transaction. */
  sessionPrelude: readonly string[];
  deadlineSeconds: number;
}

/**
 * `c` must be a connection of its own, destroyed afterwards rather than released: the replayed
 * statements change its session (sql_mode, TIMESTAMP, server id) and only the GTID identity is
 * reset here. The candidate must not apply replication meanwhile. A transaction counts as applied
 * once its last statement returned (and, on MariaDB, @@last_gtid is its GTID); when that answer
 * was lost with the connection, it is `uncertain`: the caller settles it by reading the
 * candidate's position on a new connection.
 */
export async function applySalvage(c: PoolConnection, input: SalvageApplyInput): Promise<SalvageApplyResult> {
  const started = Date.now();
  const deadline = started + input.deadlineSeconds * 1000;
  const salvage = salvageDialectFor(input.flavor);
  const applied: string[] = [];
  let uncertain: string | null = null;
  let alive = true;
  const position = async () => {
    const p = await probe(c, dialectFor(input.flavor).gtidPosition());
    return { state: candidateState(input.flavor, p.position, p.replica), text: p.position };
  };
  const send = async (sql: string) => {
    const [rows] = await c.query({ sql, timeout: Math.max(1000, deadline - Date.now()) });
    return rows;
  };
  const result = (stoppedBy: SalvageApplyResult['stoppedBy'], why: SalvageApplyFailure | null) => ({
    applied: [...applied],
    stoppedBy,
    failure: why,
    uncertain,
    notApplied: input.transactions
      .map((t) => t.gtid as string)
      .filter((g) => !applied.includes(g) && g !== uncertain),
    positionBefore: before.text,
    positionAfter: null as string | null,
    verified: false,
    summary: summarizeGtids(input.flavor, applied),
    seconds: (Date.now() - started) / 1000,
  });
  const finish = async (stoppedBy: SalvageApplyResult['stoppedBy'], why: SalvageApplyFailure | null) => {
    if (alive) for (const s of salvage.resetSession()) await send(s).catch(() => undefined);
    const after = alive ? await position().catch(() => null) : null;
    const r = result(stoppedBy, why);
    return {
      ...r,
      positionAfter: after?.text ?? null,
      verified: !!after && appliedAreIn(input.flavor, applied, after.state),
    };
  };

  // Never applied to a node that already has any of them: checked on the candidate, now.
  const before = await position();
  const refusal = applyPrecheck(input.flavor, input.transactions, before.state);
  if (refusal) return result('refused', refusal);
  try {
    for (const s of input.sessionPrelude) await send(s);
  } catch (e) {
    alive = sessionSurvives(e);
    return finish('failed', statementFailure(null, e));
  }
  const lastWritten = salvage.lastWrittenGtid();
  for (const t of input.transactions) {
    if (Date.now() >= deadline) return finish('deadline', null);
    for (let i = 0; i < t.statements.length; i++) {
      try {
        await send(t.statements[i]);
      } catch (e) {
        alive = sessionSurvives(e);
        if (!alive && i === t.statements.length - 1) uncertain = t.gtid;
        if (alive) for (const s of salvage.abandonTransaction()) await send(s).catch(() => undefined);
        return finish(timedOut(e) ? 'deadline' : 'failed', statementFailure(t.gtid, e, t.statements[i]));
      }
    }
    const rows = lastWritten === null ? null : await send(lastWritten).catch(() => null);
    const written = lastWritten === null ? t.gtid : ((rows as { gtid?: string }[] | null)?.[0]?.gtid ?? null);
    if (written !== t.gtid)
      return finish(
        'failed',
        salvageFailure(
          t.gtid,
          `written under GTID ${written ?? 'unknown'}, not ${t.gtid}: the transaction was split`,
          'gtid-mismatch',
        ),
      );
    applied.push(t.gtid as string);
  }
  return finish('done', null);
}
