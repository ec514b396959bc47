import fc from 'fast-check';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';

/**
 * Building blocks for fuzzing every route of the served OpenAPI document
 * (test/e2e/bad-input.e2e-spec.ts): the operations it lists, hostile values
 * for path segments, query strings, headers and JSON bodies, a raw HTTP client
 * that sends exactly those bytes, and the check of every answer against the
 * error contract of PROTOCOL.md § Errors.
 */

// ---------------------------------------------------------------- the document

export interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  nullable?: boolean;
  example?: unknown;
  default?: unknown;
  anyOf?: JsonSchema[];
  format?: string;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
}

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: JsonSchema;
}

export interface Operation {
  method: string;
  /** The OpenAPI template, e.g. `/api/v1/admin/users/{id}`. */
  path: string;
  parameters: Parameter[];
  body?: JsonSchema;
  secured: boolean;
  tags: string[];
}

interface OpenApiDocument {
  paths: Record<
    string,
    Record<
      string,
      {
        parameters?: Parameter[];
        requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
        security?: unknown[];
        tags?: string[];
      }
    >
  >;
}

const HTTP_METHODS = new Set(['get', 'post', 'put', 'patch', 'delete']);

/** Every operation of the document, in its order. */
export function operationsOf(document: OpenApiDocument): Operation[] {
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!HTTP_METHODS.has(method)) continue;
      operations.push({
        method: method.toUpperCase(),
        path,
        parameters: op.parameters ?? [],
        body: op.requestBody?.content?.['application/json']?.schema,
        secured: (op.security ?? []).length > 0,
        tags: op.tags ?? [],
      });
    }
  }
  return operations;
}

/** Methods that can carry a body: each is sent bodies whether or not the document declares one. */
export const takesBody = (op: Operation) => op.method !== 'GET';

export const paramsIn = (op: Operation, where: Parameter['in']) => op.parameters.filter((p) => p.in === where);

/** The `{name}`s of the path template (whether or not the document declares them as parameters). */
export const templateParams = (op: Operation) => [...op.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);

/** The path with each `{name}` replaced by `segments[name]` (already percent-encoded, or deliberately raw). */
export function fillPath(template: string, segments: Record<string, string>): string {
  return template.replace(/\{([^}]+)\}/g, (_, name: string) => segments[name] ?? 'missing');
}

// ---------------------------------------------------------------- hostile values

const TEN_K = 'a'.repeat(10_000);
const enc = encodeURIComponent;

/** Path segments no route should choke on (percent-encoded where a client would encode). */
export const BAD_SEGMENTS: readonly string[] = [
  '%20',
  TEN_K,
  '%00',
  '%ED%A0%80', // an unpaired surrogate (U+D800) in UTF-8 form: not valid UTF-8
  '%C0%AF', // an overlong '/'
  '%', // a lone percent
  '..',
  '..%2F..%2F..%2Fetc%2Fpasswd',
  '-1',
  '1e309',
  '99999999999999999999999999999',
  '00000000-0000-0000-0000-000000000000',
  'FFFFFFFF-FFFF-4FFF-BFFF-FFFFFFFFFFFF',
  'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', // 43 base64url characters, like a QR id
  enc("' OR 1=1 --"),
  enc('😀'),
];

/** Query values for a declared parameter: its own boundaries broken, plus the generic ones. */
export function badQueryValues(param: Parameter): string[] {
  const s = param.schema ?? {};
  const values = ['', TEN_K, '%00', '%ED%A0%80', '%', '1e309'];
  if (s.type === 'integer' || s.type === 'number') values.push('-1', 'NaN', '1.5', '99999999999999999999999');
  if (typeof s.minimum === 'number') values.push(String(s.minimum - 1));
  if (typeof s.maximum === 'number') values.push(String(s.maximum + 1));
  if (s.enum?.length) values.push(enc(`${String(s.enum[0])} `), String(s.enum[0]).toUpperCase());
  if (s.format === 'date-time') {
    values.push(
      '2026-02-30T00:00:00Z',
      '99999-01-01T00:00:00Z',
      '2026-01-01T00:00:00',
      enc('2026-01-01T00:00:00+99:00'),
    );
    // Valid, but at the edges of time: ranges of thousands of years.
    values.push(
      '0000-01-01T00:00:00Z',
      '0001-01-01T00:00:00Z',
      '9999-12-31T23:59:59.999999999Z',
      enc('2026-01-01T00:00:00+14:00'),
    );
  }
  if (s.anyOf?.some((a) => a.format === 'ipv4' || a.format === 'ipv6'))
    values.push('0.0.0.0', '255.255.255.255', enc('::ffff:1.2.3.4'), enc('fe80::1%eth0'), '999.1.1.1');
  if (s.pattern?.includes('[0-9a-f]{8}')) values.push('not-a-uuid', 'FFFFFFFF-FFFF-4FFF-BFFF-FFFFFFFFFFFF');
  return values;
}

/** Query strings with fields nobody declared, duplicated fields and bracket syntax, appended to a route's URL. */
export const ODD_QUERIES: readonly string[] = [
  'unknownField=1',
  `${enc('__proto__[admin]')}=true`,
  'limit=1&limit=2',
  'status[$ne]=x',
  '%ED%A0%80=1',
  `code=%00&state=${TEN_K}`,
  `x=${TEN_K}${TEN_K}`, // a request line over Node's 16 KB header limit: refused before any middleware runs
];

/**
 * Cursors that look like the API's own (base64url JSON `[sort, ...key]`) but
 * carry wrong sorts and keys, made from `real` (a `nextCursor` the API gave)
 * when there is one, plus plain garbage.
 */
export function badCursors(real: string | null): string[] {
  const b64 = (value: unknown) =>
    Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
  const cursors = [
    'garbage',
    '-'.repeat(1024),
    'a'.repeat(1025),
    b64('not json'),
    b64({}),
    b64([]),
    b64([1, 2, 3]),
    b64(['-createdAt', 'x', 'y']),
  ];
  let parsed: unknown;
  try {
    parsed = real ? JSON.parse(Buffer.from(real, 'base64url').toString('utf8')) : null;
  } catch {
    parsed = null;
  }
  if (Array.isArray(parsed) && parsed.length > 1) {
    const [sort, ...key] = parsed as string[];
    const junk = [
      '',
      '\u0000',
      '\ud800',
      'x'.repeat(512),
      '99999-12-31T00:00:00Z',
      '2026-02-30',
      '1e309',
      "' OR 1=1 --",
    ];
    cursors.push(b64([`${sort}x`, ...key]), b64([sort, ...key, 'extra']), b64([sort, ...key.map(() => 1)]));
    for (let i = 0; i < key.length; i++) {
      for (const j of junk) cursors.push(b64([sort, ...key.map((k, n) => (n === i ? j : k))]));
    }
  }
  return cursors;
}

/** Header values a client can put on the wire (no NUL or non-latin1: Node refuses to send those). */
export const BAD_HEADER_VALUES: readonly string[] = [
  '',
  'garbage',
  'x'.repeat(8_000),
  'x'.repeat(20_000),
  'W/"x"',
  '*',
  '%00',
  'ÿÿÿ',
];

/** A value spliced into a body verbatim: JSON numbers JavaScript cannot hold. */
export class RawJson {
  constructor(readonly text: string) {}
  toString() {
    return this.text;
  }
}

const RAW_NUMBERS = [
  '1e309',
  '-1e309',
  '1e-400',
  '-0',
  '123456789012345678901234567890',
  '-123456789012345678901234567890',
  '9007199254740993',
  '2147483648',
  '-2147483649',
  '9223372036854775808',
  '0.1e1000',
];

/** A string unit that is often hostile: NUL, lone surrogates, controls, bidi overrides, or any code point. */
const hostileUnit = fc.oneof(
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '\u0000',
      '\ud800',
      '\udfff',
      '\u0001',
      '\u007f',
      '\u202e',
      '\ufeff',
      '\uffff',
      '\\',
      '"',
      "'",
      '%',
      '\n',
    ),
  },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
);

/** Strings a validator must refuse or store safely. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: hostileUnit, maxLength: 20 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    'de\u0000mo',
    '\ud800',
    'a\udc00b',
    '\ud83d',
    TEN_K,
    '😀'.repeat(5_000),
    '../../etc/passwd',
    "' OR 1=1 --",
    'javascript:alert(1)',
    '//evil.example',
    'https://evil.example/x',
  ),
  fc.string({ minLength: 10_000, maxLength: 10_000 }),
);

/** Numbers at and beyond every limit, some only expressible as raw JSON text. */
export const hostileNumber: fc.Arbitrary<number | RawJson> = fc.oneof(
  fc.constantFrom(
    -1,
    0,
    -0,
    1.5,
    2 ** 31,
    2 ** 53 + 2,
    -(2 ** 63),
    Number.MAX_VALUE,
    -Number.MAX_VALUE,
    Number.MIN_VALUE,
  ),
  fc.constantFrom(...RAW_NUMBERS).map((text) => new RawJson(text)),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
);

/** Arrays and objects nested deeper than any schema expects (as raw text: too deep for a recursive JSON.stringify). */
const deepValue = fc.integer({ min: 50, max: 10_000 }).map((depth) => {
  const open = Array.from({ length: depth }, (_, i) => (i % 2 ? '[' : '{"a":')).join('');
  const close = Array.from({ length: depth }, (_, i) => (i % 2 ? ']' : '}'))
    .reverse()
    .join('');
  return new RawJson(`${open}"bottom"${close}`);
});

/** Any hostile JSON value for a field. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: hostileString },
  { weight: 2, arbitrary: hostileNumber },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, [], {}, [null], { '': '' }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' }) },
  { weight: 1, arbitrary: deepValue },
  { weight: 1, arbitrary: fc.array(hostileString, { maxLength: 5 }) },
);

/** Field names no schema declares, including the prototype-pollution classics. */
export const unknownKey = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    'id',
    'userId',
    'isAdmin',
    'admin',
    'role',
    'status',
    'sessionId',
    '',
    ' ',
    '\u0000',
    '\ud800',
    TEN_K,
  ),
  fc.string({ unit: 'binary', maxLength: 12 }),
);

/** A string the schema accepts, or nearly: by its pattern, format and lengths. */
function plausibleString(schema: JsonSchema): fc.Arbitrary<string> {
  const min = schema.minLength ?? 0;
  const max = schema.maxLength ?? Number.MAX_SAFE_INTEGER;
  if (schema.format === 'uri')
    return fc.constantFrom('https://example.com/avatar.png', 'http://127.0.0.1/a', 'https://例子.测试/头像.png');
  if (schema.format === 'date-time')
    return fc
      .date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2030-01-01T00:00:00Z'), noInvalidDate: true })
      .map((d) => d.toISOString());
  const base = schema.pattern
    ? fc.stringMatching(new RegExp(schema.pattern), { size: 'small' })
    : fc.string({ minLength: Math.max(min, 1), maxLength: Math.min(max, 40) });
  return base.filter((v) => v.length >= min && v.length <= max);
}

/**
 * A plausible value for one documented field: from `known` (values that
 * exist, such as a real login), the schema's example, its enum, or its type.
 */
function plausible(
  schema: JsonSchema,
  name: string,
  known: Record<string, readonly unknown[]>,
  example: unknown,
): fc.Arbitrary<unknown> {
  const options: Array<fc.Arbitrary<unknown> | fc.WeightedArbitrary<unknown>> = [];
  if (known[name]?.length) options.push({ weight: 3, arbitrary: fc.constantFrom(...known[name]) });
  if (example !== undefined) options.push(fc.constant(example));
  if (schema.enum?.length) options.push(fc.constantFrom(...schema.enum));
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (type === 'integer' || type === 'number')
    options.push(fc.integer({ min: schema.minimum ?? 0, max: schema.maximum ?? 1_000 }));
  else if (type === 'boolean') options.push(fc.boolean());
  else if (type === 'array') {
    const items = schema.items ? plausible(schema.items, `${name}[]`, known, undefined) : fc.string();
    options.push(fc.array(items, { minLength: schema.minItems ?? 0, maxLength: schema.maxItems ?? 3 }));
  } else if (type === 'object') options.push(objectFor(schema, known, undefined, 'plausible'));
  else if (!schema.enum?.length) options.push(plausibleString(schema));
  if (schema.nullable) options.push(fc.constant(null));
  return fc.oneof(...options);
}

/**
 * An object with the schema's documented fields: `plausible` ones (its
 * required fields always there), or `mixed` ones, a quarter of them hostile.
 */
function objectFor(
  schema: JsonSchema,
  known: Record<string, readonly unknown[]>,
  example: unknown,
  mode: 'plausible' | 'mixed',
): fc.Arbitrary<Record<string, unknown>> {
  const examples = (example && typeof example === 'object' ? example : {}) as Record<string, unknown>;
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    const value = plausible(property, name, known, examples[name] ?? property.example);
    fields[name] =
      mode === 'plausible' ? value : fc.oneof({ weight: 3, arbitrary: value }, { weight: 1, arbitrary: hostileValue });
  }
  const requiredKeys = mode === 'plausible' ? (schema.required ?? []).filter((k) => k in fields) : [];
  return fc.record(fields, { requiredKeys }) as fc.Arbitrary<Record<string, unknown>>;
}

/** `fields` plus `extra` (own properties, even `__proto__`). */
const withExtra = ([fields, extra]: [Record<string, unknown>, Record<string, unknown> | null]) =>
  extra ? (Object.assign(Object.create(null) as object, fields, extra) as Record<string, unknown>) : fields;

/**
 * JSON bodies for one route: its documented fields with plausible values
 * (so that requests get past validation into the service), the same with a
 * quarter of the values hostile or unknown fields mixed in, and any JSON
 * value at all (fc.jsonValue, fc.anything, fc.object, a hostile scalar).
 */
export function bodyArbitrary(
  schema: JsonSchema | undefined,
  known: Record<string, readonly unknown[]>,
): fc.Arbitrary<unknown> {
  const documented = schema ?? {};
  const unknownFields = fc.dictionary(unknownKey, hostileValue, { minKeys: 1, maxKeys: 3 });
  return fc.oneof(
    { weight: 4, arbitrary: objectFor(documented, known, documented.example, 'plausible') },
    {
      weight: 3,
      arbitrary: fc
        .tuple(objectFor(documented, known, documented.example, 'mixed'), fc.option(unknownFields, { freq: 3 }))
        .map(withExtra),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(objectFor(documented, known, documented.example, 'plausible'), unknownFields).map(withExtra),
    },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
    {
      weight: 1,
      arbitrary: fc.anything({ maxDepth: 3, withNullPrototype: true, withBoxedValues: true, withSparseArray: true }),
    },
    { weight: 1, arbitrary: fc.object({ maxDepth: 2 }) },
    { weight: 1, arbitrary: hostileValue },
  );
}

/** The JSON text of `value`, with `RawJson` numbers spliced in verbatim; undefined when JSON has no text for it. */
export function jsonText(value: unknown): string | undefined {
  const raws: string[] = [];
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof RawJson) {
      raws.push(v.text);
      return `\u0001RAW${raws.length - 1}\u0001`;
    }
    return v;
  }) as string | undefined;
  return text?.replace(/"\\u0001RAW(\d+)\\u0001"/g, (_, i: string) => raws[Number(i)]!);
}

/** Malformed JSON texts (valid UTF-8 or not), and one valid text nested 100,000 deep. */
export const MALFORMED_JSON: ReadonlyArray<string | Buffer> = [
  '{',
  '{"a":',
  '{"a":1}}',
  '[1,2',
  'nul',
  '{a:1}',
  "{'a':1}",
  '{"a":1,}',
  '{"a":"\\u00"}',
  '\ufeff{}',
  'NaN',
  '"unterminated',
  '{"a":1e309}',
  '['.repeat(100_000) + ']'.repeat(100_000),
  Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0xff, 0xfe, 0x22, 0x7d]), // {"a":"<invalid UTF-8>"}
  Buffer.from([0x00, 0x00, 0x00, 0x7b]),
];

/** A syntactically valid JSON object of about `bytes` bytes. */
export const hugeJson = (bytes: number) => `{"x":"${'a'.repeat(bytes)}"}`;

/** Percent-encodes the UTF-8 of `value` (a lone surrogate becomes U+FFFD, as a browser would send it). */
const encodeUtf8 = (value: string) =>
  [...Buffer.from(value, 'utf8')]
    .map((b) =>
      /[A-Za-z0-9_.~-]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');

/** A value the query parameter's schema accepts: enum, integer range, date-time (any year 1–9999), pattern. */
function plausibleQueryValue(schema: JsonSchema): fc.Arbitrary<string> {
  if (schema.enum?.length) return fc.constantFrom(...schema.enum.map(String));
  // The bottom of the range: a long poll's `waitSeconds` stays short (huge values are the hostile ones' job).
  if (schema.type === 'integer' || schema.type === 'number')
    return fc
      .integer({ min: schema.minimum ?? 0, max: Math.min(schema.maximum ?? 1, (schema.minimum ?? 0) + 1) })
      .map(String);
  if (schema.format === 'date-time')
    return fc
      .date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true })
      .map((d) => d.toISOString());
  const variants = schema.anyOf?.length ? schema.anyOf : [schema];
  return fc.oneof(...variants.map((v) => plausibleString(v)));
}

/**
 * Query strings for the declared query parameters: half of them with every
 * chosen field plausible (from `known`, e.g. a real cursor, or the schema),
 * half with fields also hostile (any text, 10k characters, raw invalid
 * UTF-8) or repeated, and now and then a field nobody declared.
 */
export function queryArbitrary(
  params: Parameter[],
  known: Record<string, readonly string[]> = {},
): fc.Arbitrary<string> {
  const plausibleValue = (p: Parameter) => {
    const fromSchema = plausibleQueryValue(p.schema ?? {});
    return known[p.name]?.length ? fc.oneof(fc.constantFrom(...known[p.name]), fromSchema) : fromSchema;
  };
  const pair = (p: Parameter) => (v: string) => `${p.name}=${encodeUtf8(v)}`;
  const plausibleField = (p: Parameter) => plausibleValue(p).map((v) => [pair(p)(v)]);
  const mixedField = (p: Parameter) =>
    fc.oneof(
      { weight: 4, arbitrary: plausibleField(p) },
      { weight: 1, arbitrary: hostileString.map((v) => [pair(p)(v)]) },
      { weight: 1, arbitrary: fc.constantFrom(...badQueryValues(p)).map((v) => [`${p.name}=${v}`]) },
      {
        weight: 1,
        arbitrary: fc.tuple(plausibleValue(p), plausibleValue(p)).map(([a, b]) => [pair(p)(a), pair(p)(b)]),
      },
    );
  const build = (field: (p: Parameter) => fc.Arbitrary<string[]>, odd: fc.Arbitrary<string | null>) =>
    fc
      .tuple(fc.record(Object.fromEntries(params.map((p) => [p.name, field(p)])), { requiredKeys: [] }), odd)
      .map(([chosen, extra]) => [...(Object.values(chosen) as string[][]).flat(), ...(extra ? [extra] : [])].join('&'));
  return fc.oneof(
    build(plausibleField, fc.constant(null)),
    build(mixedField, fc.option(fc.constantFrom(...ODD_QUERIES), { freq: 3 })),
  );
}

// ---------------------------------------------------------------- raw HTTP

export interface RawRequest {
  method: string;
  /** Sent exactly as given: no normalisation, no re-encoding. */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** One request over a fresh connection, bytes exactly as given; rejects when no answer comes. */
export function send(baseUrl: string, req: RawRequest, timeoutMs = 15_000): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  const headers: Record<string, string> = { ...req.headers };
  if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));
  return new Promise((resolve, reject) => {
    let answered = false;
    const r = httpRequest(
      {
        host: hostname,
        port: Number(port),
        method: req.method,
        path: req.path,
        headers,
        agent: false,
        timeout: timeoutMs,
      },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    r.on('timeout', () => r.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    // The server may answer (413, 415) and close before reading a large body: that answer counts.
    r.on('error', (err) => {
      if (!answered) reject(err);
    });
    r.end(req.body);
  });
}

// ---------------------------------------------------------------- the contract

/** A stack frame, raw or inside a JSON string: `\n    at fn (/app/src/x.ts:1:2)`, `at /app/x.js:1:2`. */
const STACK_TRACE = /(?:\n|\\n)\s+at \S.*?:\d+:\d+|\bat (?:async )?\S+ \((?:file:\/\/)?\/.*?:\d+:\d+\)/;

/**
 * What is wrong with an answer by PROTOCOL.md § Errors: a 5xx, an error that
 * is not exactly the JSON envelope with the request id of the
 * `X-Request-Id` header, or a stack trace anywhere in the body.
 */
export function contractProblems(res: RawResponse): string[] {
  const problems: string[] = [];
  if (res.status >= 500) problems.push(`answered ${res.status}`);
  const requestId = res.headers['x-request-id'];
  if (typeof requestId !== 'string' || !requestId) problems.push('no X-Request-Id header');
  if (STACK_TRACE.test(res.text)) problems.push('a stack trace in the body');
  if (res.status >= 400) {
    let body: unknown;
    try {
      body = JSON.parse(res.text);
    } catch {
      body = undefined;
    }
    const envelope = body as Record<string, unknown> | undefined;
    if (
      !String(res.headers['content-type'] ?? '').startsWith('application/json') ||
      !envelope ||
      typeof envelope !== 'object'
    ) {
      problems.push(`a ${res.status} without the JSON envelope: ${res.text.slice(0, 120)}`);
    } else {
      if (typeof envelope.code !== 'string' || !/^[a-z_]+(\.[a-z_]+)?$/.test(envelope.code))
        problems.push(`envelope code ${JSON.stringify(envelope.code)}`);
      if (typeof envelope.message !== 'string' || !envelope.message) problems.push('envelope without a message');
      if (envelope.requestId !== requestId)
        problems.push(
          `envelope requestId ${JSON.stringify(envelope.requestId)} is not the header's ${String(requestId)}`,
        );
      const extra = Object.keys(envelope).filter((k) => !['code', 'message', 'requestId', 'details'].includes(k));
      if (extra.length) problems.push(`envelope with extra fields ${extra.join(', ')}`);
    }
  }
  return problems;
}
