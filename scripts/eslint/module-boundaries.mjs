// ESLint rule `scangate/module-boundaries`: each folder under src/ is a module
// whose public face is its index.ts (STYLE.md § C.16). Another module, or a
// file at the root of src/, may import only that; a module never imports its
// own index (its files import each other), nor a file at the root of src/
// (the composition root), except from an entry point (`*.cli.ts`). A relative
// import never leaves its package (src/, packages/<name>/): packages are used
// by their names.
import { dirname, relative, resolve, sep } from 'node:path';

const SOURCES = ['.js', '.ts', '.mjs'];

/**
 * Where a file is: `src/<module>/…` → { root: 'src', module }, `src/x.ts` → { root: 'src', module: null },
 * `migrations/…` → { root: 'src', module: 'migrations' } (the server's schema, used by database/),
 * `packages/<p>/…` → { root: 'packages/<p>' }.
 */
function placeOf(file, cwd) {
  const parts = relative(cwd, file).split(sep);
  if (parts[0] === 'migrations') return { root: 'src', module: 'migrations', rest: parts.slice(1).join('/') };
  if (parts[0] === 'src')
    return { root: 'src', module: parts.length > 2 ? parts[1] : null, rest: parts.slice(2).join('/') };
  if (parts[0] === 'packages' && parts.length > 1)
    return { root: `packages/${parts[1]}`, module: null, rest: parts.slice(2).join('/') };
  return { root: parts[0], module: null, rest: parts.slice(1).join('/') };
}

const isIndex = (rest) => SOURCES.some((ext) => rest === `index${ext}`);

export default {
  meta: {
    type: 'problem',
    docs: {
      description: 'Modules import each other only through their index.ts; relative imports stay inside their package',
    },
    schema: [],
  },
  create(context) {
    const cwd = context.cwd;
    const file = context.filename;
    const from = placeOf(file, cwd);
    if (from.root !== 'src' && !from.root.startsWith('packages/')) return {};
    const entryPoint = /\.cli\.ts$/.test(file);
    const check = (node) => {
      const specifier = node.source?.value;
      if (typeof specifier !== 'string' || !specifier.startsWith('.')) return;
      const to = placeOf(resolve(dirname(file), specifier), cwd);
      if (to.root !== from.root) {
        return context.report({
          node: node.source,
          message: `"${specifier}" reaches into ${to.root}/: import the package by its name instead.`,
        });
      }
      if (from.root !== 'src') return;
      if (to.module === null) {
        if (from.module !== null && !entryPoint)
          context.report({
            node: node.source,
            message: `"${specifier}" is the composition root (src/${to.rest}): a module must not depend on it.`,
          });
        return;
      }
      if (to.module === from.module) {
        if (isIndex(to.rest))
          context.report({
            node: node.source,
            message: `"${specifier}" is this module's own public face: import the file itself.`,
          });
        return;
      }
      if (!isIndex(to.rest)) {
        context.report({
          node: node.source,
          message: `"${specifier}" reaches into ${to.module}/: import what it exports from ${to.module}/index.js.`,
        });
      }
    };
    return {
      ImportDeclaration: check,
      ExportNamedDeclaration: check,
      ExportAllDeclaration: check,
      ImportExpression: (node) => check({ source: node.source }),
    };
  },
};
