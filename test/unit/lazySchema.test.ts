// domain/lazySchema.ts: a schema declared lazily is built on first use, once, and stands for the
// schema everywhere zod and its callers look at it.
import { z } from 'zod';
import { lazySchema } from '../../domain/lazySchema';

function counted<T extends object>(build: () => T) {
  const built = { times: 0 };
  const schema = lazySchema(() => {
    built.times++;
    return build();
  });
  return { schema, built };
}

describe('lazySchema', () => {
  test('nothing is built until the schema is used, and it is built once', () => {
    const { schema, built } = counted(() => z.strictObject({ cluster: z.string() }));
    expect(built.times).toBe(0);
    expect(schema.parse({ cluster: 'c1' })).toEqual({ cluster: 'c1' });
    expect(schema.safeParse({ cluster: 1 }).success).toBe(false);
    expect(built.times).toBe(1);
  });

  test("zod's errors name the field as the schema's own would", () => {
    const { schema } = counted(() => z.strictObject({ port: z.number().int() }));
    const r = schema.safeParse({ port: 'x', extra: 1 });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => [i.code, i.path])).toEqual([
      ['invalid_type', ['port']],
      ['unrecognized_keys', []],
    ]);
  });

  test('it composes: inside other schemas, derived with omit/pick/optional/default, spread as a shape', () => {
    const { schema: host, built } = counted(() => z.strictObject({ name: z.string(), port: z.number() }));
    const fields = lazySchema(() => ({ dryRun: z.boolean().default(false) }));
    const outer = z.strictObject({ host: host.omit({ port: true }).optional(), ...fields });
    expect(built.times).toBe(1); // omit built it
    expect(outer.parse({ host: { name: 'db1' } })).toEqual({ host: { name: 'db1' }, dryRun: false });
    expect(outer.safeParse({ host: { name: 'db1', port: 1 } }).success).toBe(false);
    expect(z.array(host).parse([{ name: 'a', port: 1 }])).toEqual([{ name: 'a', port: 1 }]);
    expect(host.pick({ name: true }).parse({ name: 'a' })).toEqual({ name: 'a' });
  });

  test("instanceof and the inferred type are the schema's", () => {
    const { schema } = counted(() => z.strictObject({ n: z.number() }));
    expect(schema instanceof z.ZodObject).toBe(true);
    expect(schema instanceof z.ZodString).toBe(false);
    const value: z.infer<typeof schema> = { n: 1 };
    expect(schema.parse(value)).toEqual(value);
  });

  test('a failing build fails the use, not the declaration, and is tried again', () => {
    let fail = true;
    const schema = lazySchema(() => {
      if (fail) throw new Error('bad schema');
      return z.string();
    });
    expect(() => schema.parse('x')).toThrow('bad schema');
    fail = false;
    expect(schema.parse('x')).toBe('x');
  });

  test('the domain modules that hold schemas build none when they load: a workflow start pays for none', () => {
    jest.isolateModules(() => {
      const actual = jest.requireActual<typeof import('zod')>('zod');
      let built = 0;
      // zod's factories (z.string, z.strictObject, ...), counted; its classes left as they are.
      const counting = Object.fromEntries(
        Object.entries(actual.z).map(([key, v]) => [
          key,
          typeof v === 'function' && /^[a-z]/.test(key)
            ? (...args: unknown[]) => {
                built++;
                return (v as (...a: unknown[]) => unknown)(...args);
              }
            : v,
        ]),
      );
      jest.doMock('zod', () => ({ ...actual, z: counting }));
      for (const m of ['inventory', 'runbook', 'window', 'fleet/input']) require(`../../domain/${m}`);
      expect(built).toBe(0);
      const { RejoinInputSchema } = require('../../domain/runbook') as typeof import('../../domain/runbook');
      expect(RejoinInputSchema.safeParse({}).success).toBe(false);
      expect(built).toBeGreaterThan(0);
    });
  });
});
