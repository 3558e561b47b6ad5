// Lookups in maps built from configuration or a payload (services, labels, headers) read only
// their own entries: a plain object inherits toString, constructor, __proto__..., so without this
// a PagerDuty service named "toString" would map to a function instead of to no cluster.

/** map[key] when the map itself holds key, else undefined. */
export function own<V>(map: Readonly<Record<string, V>> | undefined, key: string | undefined): V | undefined {
  return map !== undefined && key !== undefined && Object.hasOwn(map, key) ? map[key] : undefined;
}
