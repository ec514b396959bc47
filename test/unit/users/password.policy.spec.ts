import { describe, expect, it } from '@jest/globals';
import { normalizeLogin, LOGIN_PATTERN } from '../../../src/users/login.js';
import { passwordProblems } from '../../../src/users/password.policy.js';

describe('password policy', () => {
  it('accepts 10 characters or more that are not the login', () => {
    expect(passwordProblems('correct horse', 'lilei')).toEqual([]);
  });

  it('refuses fewer than 10 characters, counting characters rather than bytes', () => {
    expect(passwordProblems('short', 'lilei')).toEqual([
      { path: 'password', message: 'must be at least 10 characters long' },
    ]);
    expect(passwordProblems('密码密码密码密码密码', 'lilei')).toEqual([]);
    expect(passwordProblems('密码密码密码密码密', 'lilei')).toHaveLength(1);
  });

  it('refuses the login itself, whatever its case or spacing', () => {
    expect(passwordProblems(' LiLei.Wang1 ', 'lilei.wang1')).toEqual([
      { path: 'password', message: 'must not be the login' },
    ]);
  });

  it('refuses absurdly long input (argon2 cost) and names the field it was given', () => {
    expect(passwordProblems('x'.repeat(300), 'lilei', 'newPassword')).toEqual([
      { path: 'newPassword', message: 'must be at most 256 characters long' },
    ]);
  });
});

describe('logins', () => {
  it('are compared case-insensitively and after Unicode normalisation', () => {
    expect(normalizeLogin('  LiLei ')).toBe('lilei');
    expect(normalizeLogin('ＬｉＬｅｉ')).toBe('lilei');
  });

  it('allow letters (any script), digits and . _ @ + -, 3 to 64 of them', () => {
    expect(LOGIN_PATTERN.test('li.lei+work@example.com')).toBe(true);
    expect(LOGIN_PATTERN.test('李雷')).toBe(false);
    expect(LOGIN_PATTERN.test('李雷雷')).toBe(true);
    expect(LOGIN_PATTERN.test('has space')).toBe(false);
    expect(LOGIN_PATTERN.test('x'.repeat(65))).toBe(false);
  });
});
