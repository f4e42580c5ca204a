/**
 * Python tiktoken for the benchmarks' side-by-side runs: a virtualenv under .tools/bench-venv with the pinned
 * `tiktoken` from PyPI, and its o200k_base ranks file rebuilt from the ranks the `tiktoken` npm package ships (this
 * machine reaches no download host; tiktoken checks the rebuilt file against the SHA-256 it expects).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const TIKTOKEN_VERSION = '0.14.0';
const ROOT = resolve(__dirname, '..');
const VENV = join(ROOT, '.tools', 'bench-venv');
const CACHE = join(ROOT, '.tools', 'tiktoken-cache');
const O200K_URL = 'https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken';

export interface PythonTiktoken {
  python: string;
  /** Environment for the child: TIKTOKEN_CACHE_DIR pointing at the rebuilt ranks. */
  env: NodeJS.ProcessEnv;
}

export function pythonTiktoken(): PythonTiktoken {
  const python = join(VENV, 'bin', 'python');
  if (!existsSync(python)) execFileSync('python3', ['-m', 'venv', VENV], { stdio: 'inherit' });
  try {
    execFileSync(python, ['-c', `import tiktoken, sys; sys.exit(tiktoken.__version__ != ${JSON.stringify(TIKTOKEN_VERSION)})`]);
  } catch {
    execFileSync(python, ['-m', 'pip', 'install', '--quiet', `tiktoken==${TIKTOKEN_VERSION}`], { stdio: 'inherit' });
  }
  // tiktoken names its cache files by the SHA-1 of the URL.
  const cached = join(CACHE, createHash('sha1').update(O200K_URL).digest('hex'));
  if (!existsSync(cached)) {
    const { bpe_ranks: ranks } = JSON.parse(readFileSync(require.resolve('tiktoken/encoders/o200k_base.json'), 'utf8')) as { bpe_ranks: string };
    const lines: string[] = [];
    for (const group of ranks.split('!')) {
      const [first, ...tokens] = group.trim().split(/\s+/);
      if (first === undefined || first === '') continue;
      tokens.forEach((token, i) => lines.push(`${token} ${Number(first) + i}\n`));
    }
    mkdirSync(CACHE, { recursive: true });
    writeFileSync(cached, lines.join(''));
  }
  return { python, env: { ...process.env, TIKTOKEN_CACHE_DIR: CACHE } };
}
