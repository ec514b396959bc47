// ESLint: typescript-eslint's recommended rules with type information (floating
// promises above all) and the module boundaries of STYLE.md § C.16.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import moduleBoundaries from './scripts/eslint/module-boundaries.mjs';

export default tseslint.config(
  { ignores: ['dist/', 'packages/*/dist/', 'node_modules/', 'data/', 'coverage/', 'test-output/', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { scangate: { rules: { 'module-boundaries': moduleBoundaries } } },
    rules: {
      'scangate/module-boundaries': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          caughtErrors: 'none',
        },
      ],
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-explicit-any': 'error',
      // Control characters are what the printable-text checks look for.
      'no-control-regex': 'off',
    },
  },
  {
    // Plug-ins point inwards: the development simulators plug their settings into oauth/, never the reverse.
    files: ['src/oauth/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/sandboxes/**', '**/sandboxes'],
              message: 'oauth/ never imports the sandboxes: they plug in through PLUGGED_PROVIDER_SETTINGS.',
            },
          ],
        },
      ],
    },
  },
  {
    // One owner per table: admin works through the owners' exported services and has no SQL of its own.
    files: ['src/admin/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'typeorm', message: 'admin/ has no SQL: use the owning module’s exported service.' },
            { name: '@nestjs/typeorm', message: 'admin/ has no SQL: use the owning module’s exported service.' },
          ],
        },
      ],
    },
  },
  {
    // Tests may reach anywhere (they test the internals), but still await their promises.
    files: ['test/**/*.ts', 'packages/*/src/**/*.spec.ts'],
    rules: { 'scangate/module-boundaries': 'off' },
  },
  {
    // The web client's tests and fake server are checked with its spec project (its tsconfig.json leaves them out).
    files: ['packages/web-client/src/**/*.spec.ts', 'packages/web-client/src/testing/**/*.ts'],
    languageOptions: { parserOptions: { projectService: false, project: './packages/web-client/tsconfig.spec.json' } },
  },
  {
    files: ['**/*.{js,mjs}'],
    languageOptions: { globals: { ...globals.node } },
  },
);
