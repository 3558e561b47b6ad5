/** Where position A stands relative to position B. */
export type GtidRelation =
  /** Same transactions. */
  | 'equal'
  /** A has everything B has, and more. */
  | 'ahead'
  /** B has everything A has, and more. */
  | 'behind'
  /** Each has something the other lacks: their histories split. */
  | 'diverged';

export function invertRelation(r: GtidRelation): GtidRelation {
  return r === 'ahead' ? 'behind' : r === 'behind' ? 'ahead' : r;
}
