// The lint rule that keeps STYLE.md § C.16: a module is used only through its index.ts.
import { RuleTester } from 'eslint';
import { resolve } from 'node:path';
import moduleBoundaries from '../../scripts/eslint/module-boundaries.mjs';

const cwd = resolve(import.meta.dirname, '../..');
const at = (path: string) => resolve(cwd, path);
const tester = new RuleTester({ languageOptions: { ecmaVersion: 2022, sourceType: 'module' } });

tester.run('module-boundaries', moduleBoundaries, {
  valid: [
    {
      name: 'another module through its public face',
      filename: at('src/admin/x.ts'),
      code: "import { UsersService } from '../users/index.js';",
    },
    {
      name: 'a file of the same module',
      filename: at('src/qr-login/x.ts'),
      code: "import { a } from './qr-login.errors.js';",
    },
    {
      name: 'the composition root from an entry point',
      filename: at('src/admin/admin-create.cli.ts'),
      code: "import { AppModule } from '../app.module.js';",
    },
    {
      name: 'a package by its name',
      filename: at('src/pages/browser/page.ts'),
      code: "import { ScanGate } from '@scangate/web-client';",
    },
    {
      name: 'the root composes modules',
      filename: at('src/app.module.ts'),
      code: "import { AuthModule } from './auth/index.js';",
    },
  ],
  invalid: [
    {
      name: 'a reach into another module',
      filename: at('src/admin/x.ts'),
      code: "import { QrSessionStore } from '../qr-login/qr-session.store.js';",
      errors: [{ message: /reaches into qr-login\/: import what it exports from qr-login\/index\.js/ }],
    },
    {
      name: 'a re-export that reaches in',
      filename: at('src/admin/x.ts'),
      code: "export { UsersService } from '../users/users.service.js';",
      errors: [{ message: /reaches into users\// }],
    },
    {
      name: 'a module importing its own index',
      filename: at('src/auth/x.ts'),
      code: "import { AuthModule } from './index.js';",
      errors: [{ message: /own public face/ }],
    },
    {
      name: 'a module depending on the composition root',
      filename: at('src/auth/x.ts'),
      code: "import { AppModule } from '../app.module.js';",
      errors: [{ message: /composition root/ }],
    },
    {
      name: 'a relative import out of its package',
      filename: at('src/pages/browser/page.ts'),
      code: "import { ScanGate } from '../../../packages/web-client/src/client.js';",
      errors: [{ message: /import the package by its name/ }],
    },
  ],
});
