// Errors the emergency decisions throw. They are plain Errors (domain code has no Temporal
// imports); the workflow's scaffold turns them into a non-retryable WorkflowError failure, so the
// run fails at once (releasing the cluster lock) with this message instead of retrying its
// workflow task. Each names the host and what to do. A GTID text that does not parse is
// UnreadableGtid (domain/ranking.ts), which names the host and the position the same way.

/** A decision needs a host's GTID position and the host did not report one. */
export class PositionUnknown extends Error {
  override readonly name = 'PositionUnknown';

  constructor(
    readonly host: string,
    /** What could not be decided without it. */
    readonly decision: string,
  ) {
    super(
      `cannot ${decision}: its GTID position is unknown (discovery of ${host} returned no @@gtid_current_pos / ` +
        `@@gtid_executed); check that ${host} answers and that successover's MySQL user can read it, then start ` +
        `the recovery again, or set promotion: must_not on ${host} so that another replica is chosen`,
    );
  }
}
