// The shape of what is recorded about each flavor's versions. Every entry names the first release
// it applies to (`since`) and the public page it was taken from, so a finding can cite it. An entry
// applies to an upgrade when blue predates `since` and green has reached it.
import type { Flavor } from '../../inventory';

export interface VariableChange {
  /** Lower-case, as SHOW GLOBAL VARIABLES prints it. */
  name: string;
  since: string;
  /**
   * removed: the server no longer knows the name (an option file naming it stops the server).
   * deprecated: still accepted, with a warning; a later release removes it.
   */
  kind: 'removed' | 'deprecated';
  /** Its successor when the variable was only renamed: same meaning, same values. */
  renamedTo?: string;
  /** What to do instead, when there is more to say than the successor's name. */
  fix?: string;
  source: string;
}

export interface SqlModeChange {
  /** Upper case, as @@sql_mode prints it. */
  mode: string;
  since: string;
  kind: 'removed';
  fix: string;
  source: string;
}

export interface ReservedWord {
  /** Upper case. */
  word: string;
  since: string;
  source: string;
}

export interface AuthPluginChange {
  plugin: string;
  since: string;
  /**
   * disabled: built in but not loaded unless green is started with an option (named in `fix`).
   * removed: gone; accounts must move to another plugin before the upgrade.
   * loadable: ships as a library the server does not load by default; green must load it too.
   * default-changed: new accounts get another plugin by default; existing accounts keep theirs.
   */
  kind: 'disabled' | 'removed' | 'loadable' | 'default-changed';
  fix: string;
  source: string;
}

export interface PrivilegeChange {
  /** Upper case with single spaces, as information_schema.USER_PRIVILEGES prints it. */
  privilege: string;
  since: string;
  /**
   * narrowed: it no longer implies `lost`; accounts holding it without `lost` lose that ability.
   * deprecated: still granted and honoured; a later release removes it.
   */
  kind: 'narrowed' | 'deprecated';
  lost?: string;
  fix: string;
  source: string;
}

export interface FlavorKnowledge {
  flavor: Flavor;
  variables: VariableChange[];
  sqlModes: SqlModeChange[];
  reservedWords: ReservedWord[];
  authPlugins: AuthPluginChange[];
  privileges: PrivilegeChange[];
}

/**
 * A setting blue and green must agree on while green replicates from blue and, after the cutover,
 * blue from green. Not version knowledge: these follow from how replication works.
 */
export interface ReplicationRule {
  /** Variable names that mean the same thing (old and new spellings); the first present is read. */
  names: string[];
  /**
   * same: blue and green must hold the same value.
   * distinct: they must differ (server_id).
   * on: green must have it on.
   */
  rule: 'same' | 'distinct' | 'on';
  severity: 'blocking' | 'warning';
  /** Why it matters and what to do. */
  why: string;
}
