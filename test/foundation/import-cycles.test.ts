/**
 * No import circles through src/ (the client, emulator, pipeline, report and the rest): a circle makes a module's
 * exports undefined while the other half loads, and ties two modules that should change apart. dpdm reads the imports
 * with the TypeScript compiler, type-only imports included (tsc erases them, but they couple the modules just as much).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseCircular, parseDependencyTree } from 'dpdm';
import { ROOT } from '../helpers/cli';

/** The import circles reachable from `entries` (globs relative to `cwd`) that pass through a file under `within`. */
async function importCircles(cwd: string, entries: string[], within: string): Promise<string[][]> {
  const tree = await parseDependencyTree(entries, { cwd, context: cwd, tsconfig: join(cwd, 'tsconfig.json'), transform: false, skipDynamicImports: false });
  return parseCircular(tree).filter((circle) => circle.some((file) => file.startsWith(within)));
}

describe('import circles', () => {
  it('none passes through src/', { timeout: 120_000 }, async () => {
    const circles = await importCircles(ROOT, ['src/**/*.ts'], 'src/');
    assert.deepEqual(circles, [], `import circles (each file imports the next, the last imports the first):\n${circles.map((c) => `  ${c.join(' -> ')}`).join('\n')}`);
  });

  it('the check finds a circle made of type-only imports', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ftpipe-cycles-'));
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'node16', strict: true } }));
    writeFileSync(join(dir, 'a.ts'), "import type { B } from './b';\nexport interface A { b?: B }\n");
    writeFileSync(join(dir, 'b.ts'), "import type { A } from './a';\nexport interface B { a?: A }\n");
    assert.deepEqual((await importCircles(dir, ['*.ts'], '')).map((circle) => [...circle].sort()), [['a.ts', 'b.ts']]);
  });
});
