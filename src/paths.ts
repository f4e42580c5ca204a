/** Where ftpipe's own files are, whether it runs from TypeScript sources (tsx) or from the compiled dist/ tree. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

let cachedRoot: string | undefined;

/** The directory holding ftpipe's package.json. */
export function packageRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = __dirname;
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'ftpipe') {
      cachedRoot = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find ftpipe's package.json above ${__dirname}`);
    dir = parent;
  }
}

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** Project-local state (dev server database, emulator state, reports), ignored by git. */
export function stateDir(): string {
  return process.env.FTPIPE_HOME ?? join(packageRoot(), '.ftpipe');
}
