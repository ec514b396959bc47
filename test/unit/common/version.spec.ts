import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { VERSION } from '../../../src/common/version.js';

describe('VERSION', () => {
  it('matches the version in package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    expect(VERSION).toBe(pkg.version);
  });
});
