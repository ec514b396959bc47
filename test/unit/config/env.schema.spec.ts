import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { parseConfig } from '../../../src/config/config.loader.js';
import { EnvSchema } from '../../../src/config/env.schema.js';

const example = readFileSync(new URL('../../../.env.example', import.meta.url), 'utf8');
const exampleVars = [...example.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]);

describe('.env.example', () => {
  it('lists every variable the schema reads, and no other', () => {
    expect([...exampleVars].sort()).toEqual(Object.keys(EnvSchema.shape).sort());
  });

  it('explains each variable with a comment just above it', () => {
    for (const name of exampleVars) {
      const before = example.slice(0, example.indexOf(`\n${name}=`)).split('\n');
      expect({ name, comment: before.at(-1)?.startsWith('#') }).toEqual({ name, comment: true });
    }
  });

  it('is a valid configuration as it stands', () => {
    const env = Object.fromEntries([...example.matchAll(/^([A-Z][A-Z0-9_]*)=(.*)$/gm)].map((m) => [m[1], m[2]]));
    expect(() => parseConfig(env)).not.toThrow();
  });
});
