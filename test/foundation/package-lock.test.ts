import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../helpers/cli';

interface LockedPackage {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

// npm ci refuses a lock file that lacks an optional dependency of a locked package, even one for another platform
// (npm install would quietly add it and rewrite the file), so every one must be listed.
describe('package-lock.json', () => {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
    lockfileVersion: number;
    packages: Record<string, LockedPackage>;
  };
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };

  // Node's resolution: a dependency of node_modules/a/node_modules/b is looked up there first, then up the tree.
  function resolve(from: string, name: string): LockedPackage | undefined {
    let base = from;
    for (;;) {
      const found = lock.packages[`${base === '' ? '' : `${base}/`}node_modules/${name}`];
      if (found) return found;
      if (base === '') return undefined;
      const cut = base.lastIndexOf('/node_modules/');
      base = cut < 0 ? '' : base.slice(0, cut);
    }
  }

  it('is a lockfile v3 whose root lists package.json\'s dependencies', () => {
    assert.equal(lock.lockfileVersion, 3);
    assert.deepEqual(lock.packages['']?.dependencies, pkg.dependencies);
    assert.deepEqual((lock.packages[''] as { devDependencies?: unknown }).devDependencies, pkg.devDependencies);
  });

  it('lists every optional dependency of every locked package, at the version asked for', () => {
    const missing: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      for (const [name, range] of Object.entries(entry.optionalDependencies ?? {})) {
        const found = resolve(path, name);
        if (!found) missing.push(`${path}: ${name}@${range}`);
        else if (/^\d+\.\d+\.\d+$/.test(range) && found.version !== range) missing.push(`${path}: ${name}@${range} (locked ${found.version})`);
      }
    }
    assert.deepEqual(missing, [], 'run `npm install --package-lock-only` with npm 11 to complete the lock file');
  });
});
