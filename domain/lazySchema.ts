// Schemas built on first use. The worker evaluates every module of its workflow bundle again for
// each workflow it starts (Temporal isolates runs from each other that way), so a schema built
// when its module loads is built by every run: the cluster lock's and the fence watch's too,
// which validate nothing. Built on first use, only the run that validates its input pays, and
// only for the schemas that input needs. Outside workflows it costs one proxy hop per access.
//
// The proxy stands for the schema in every way zod and its callers look at it (properties,
// methods, spreading, `instanceof`), so a module declares `X = lazySchema(() => z...)` and its
// users write `X.parse(...)`, `X.omit(...)` and `z.infer<typeof X>` as before.

/** `build()`'s result, built when it is first looked at. */
export function lazySchema<T extends object>(build: () => T): T {
  let built: T | undefined;
  const schema = (): T => (built ??= build());
  return new Proxy({} as T, {
    get: (_, key) => Reflect.get(schema(), key),
    set: (_, key, value) => Reflect.set(schema(), key, value),
    has: (_, key) => Reflect.has(schema(), key),
    ownKeys: () => Reflect.ownKeys(schema()),
    // Reported configurable: the empty target holds none of the schema's own properties.
    getOwnPropertyDescriptor: (_, key) => {
      const d = Reflect.getOwnPropertyDescriptor(schema(), key);
      return d && { ...d, configurable: true };
    },
    getPrototypeOf: () => Reflect.getPrototypeOf(schema()),
  });
}
