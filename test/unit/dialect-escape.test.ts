import { quoteIdentifier, quoteString } from '../../domain/dialects';
import { sqlInteger, sqlSeconds } from '../../domain/dialects/escape';

/** A tiny reader of MySQL string literals in the default sql_mode, to check what the server sees. */
function readLiteral(sql: string): { value: string; rest: string } {
  expect(sql[0]).toBe("'");
  const map: Record<string, string> = { '0': '\0', n: '\n', r: '\r', Z: '\x1a', '\\': '\\', "'": "'" };
  let value = '';
  for (let i = 1; i < sql.length; i++) {
    const c = sql[i] as string;
    if (c === '\\') value += map[sql[++i] as string] ?? sql[i];
    else if (c === "'" && sql[i + 1] === "'") value += sql[++i];
    else if (c === "'") return { value, rest: sql.slice(i + 1) };
    else value += c;
  }
  throw new Error('unterminated literal');
}

describe('quoteString', () => {
  it.each([
    ['plain', "'plain'"],
    ["it's", "'it''s'"],
    ['back\\slash', "'back\\\\slash'"],
    ['nul\0x', "'nul\\0x'"],
    ['a\nb\rc', "'a\\nb\\rc'"],
    ['ctrl\x1aZ', "'ctrl\\ZZ'"],
  ])('%j -> %s', (input, expected) => expect(quoteString(input)).toBe(expected));

  it.each([
    "x'; DROP DATABASE mysql; --",
    "\\'; SET GLOBAL read_only=0; --",
    "\\\\'' OR 1=1 #",
    "'\0\\\n\r\x1a'",
  ])('an injection attempt stays one literal with the same value: %j', (attack) => {
    const { value, rest } = readLiteral(quoteString(attack));
    expect(value).toBe(attack);
    expect(rest).toBe('');
  });

  it('refuses non-strings', () => expect(() => quoteString(42 as unknown as string)).toThrow(TypeError));
});

describe('quoteIdentifier', () => {
  it('doubles backticks so the name cannot end the identifier', () => {
    expect(quoteIdentifier('app')).toBe('`app`');
    expect(quoteIdentifier('a`; DROP TABLE t; `')).toBe('`a``; DROP TABLE t; ```');
  });
  it('refuses empty names and NUL', () => {
    expect(() => quoteIdentifier('')).toThrow();
    expect(() => quoteIdentifier('a\0b')).toThrow(/NUL/);
  });
});

describe('numbers in statements', () => {
  it('accepts integers and refuses anything that is not one', () => {
    expect(sqlInteger(3306, 'port', 1)).toBe('3306');
    expect(() => sqlInteger(1.5, 'port')).toThrow(/port/);
    expect(() => sqlInteger(Number('1; DROP'), 'port')).toThrow();
    expect(() => sqlInteger(0, 'connection id', 1)).toThrow(/>= 1/);
  });
  it('seconds allow fractions but not negatives or NaN', () => {
    expect(sqlSeconds(0.25, 't')).toBe('0.25');
    expect(sqlSeconds(1 / 3, 't')).toBe('0.333');
    expect(() => sqlSeconds(-1, 't')).toThrow();
    expect(() => sqlSeconds(NaN, 't')).toThrow();
  });
});
