import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, lstatSync, mkdirSync, mkdtempSync, readlinkSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { temporalCliPath } from '../../src/devserver/temporal-cli';

const run = promisify(execFile);
const SCRIPT = join(__dirname, '..', '..', 'scripts', 'install-temporal');

/** A throwaway project folder holding only the installer, so the tests never touch the real .tools/. */
function scratchProject(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ftpipe-install-'));
  mkdirSync(join(dir, 'scripts'));
  copyFileSync(SCRIPT, join(dir, 'scripts', 'install-temporal'));
  return dir;
}

describe('scripts/install-temporal', () => {
  const realCli = realpathSync(temporalCliPath());
  const scratch: string[] = [];
  after(() => scratch.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it('uses an explicit TEMPORAL_CLI, prints the route and version, and does not reinstall the second time', async () => {
    const project = scratchProject();
    scratch.push(project);
    const first = await run('bash', [join(project, 'scripts', 'install-temporal')], { env: { ...process.env, TEMPORAL_CLI: realCli } });
    assert.match(first.stdout, /installed via TEMPORAL_CLI: temporal version 1\.5\.1/);
    assert.equal(readlinkSync(join(project, '.tools', 'bin', 'temporal')), realCli);

    // Not reinstalled: the link is the same file (a reinstall replaces it), whatever the machine's load.
    const installed = lstatSync(join(project, '.tools', 'bin', 'temporal'), { bigint: true });
    const { TEMPORAL_CLI: _unset, ...envWithoutCli } = process.env;
    const second = await run('bash', [join(project, 'scripts', 'install-temporal')], { env: envWithoutCli });
    assert.match(second.stdout, /already installed via TEMPORAL_CLI: temporal version 1\.5\.1/);
    const again = lstatSync(join(project, '.tools', 'bin', 'temporal'), { bigint: true });
    assert.deepEqual([again.ino, again.mtimeNs], [installed.ino, installed.mtimeNs], 'the idempotent path must not reinstall');
  });

  it('falls back to a temporal found on PATH', async () => {
    const project = scratchProject();
    const pathDir = join(project, 'path-bin');
    scratch.push(project);
    mkdirSync(pathDir);
    symlinkSync(realCli, join(pathDir, 'temporal'));
    const { TEMPORAL_CLI: _unset, ...env } = process.env;
    const { stdout } = await run('bash', [join(project, 'scripts', 'install-temporal')], { env: { ...env, PATH: `${pathDir}:${process.env.PATH ?? ''}` } });
    assert.match(stdout, /installed via PATH: temporal version 1\.5\.1/);
  });

  it('refuses a TEMPORAL_CLI that is not an executable', async () => {
    const project = scratchProject();
    scratch.push(project);
    await assert.rejects(
      run('bash', [join(project, 'scripts', 'install-temporal')], { env: { ...process.env, TEMPORAL_CLI: join(project, 'missing') } }),
      (err: { code: number; stderr: string }) => err.code === 1 && /is not an executable file/.test(err.stderr),
    );
  });
});

describe('finding the Temporal CLI (src/devserver/temporal-cli.ts)', () => {
  it('takes TEMPORAL_CLI, then the project\'s .tools/, then PATH; missing, it says how to install it where the installer is and where it is not', () => {
    const realCli = realpathSync(temporalCliPath());
    const bare = mkdtempSync(join(tmpdir(), 'ftpipe-cli-lookup-'));
    const bin = join(bare, 'bin');
    mkdirSync(bin);
    symlinkSync(realCli, join(bin, 'temporal'));
    try {
      assert.equal(temporalCliPath({ TEMPORAL_CLI: realCli, PATH: bin }, bare), realCli);
      // The installed package: no .tools/, no installer; a temporal on PATH is taken.
      assert.equal(temporalCliPath({ PATH: `/nonexistent${delimiter}${bin}` }, bare), join(bin, 'temporal'));
      assert.throws(() => temporalCliPath({ PATH: '/nonexistent' }, bare), (err: Error) =>
        err.message === `the Temporal CLI is not installed (looked for ${join(bare, '.tools', 'bin', 'temporal')} and temporal on PATH); install it (https://docs.temporal.io/cli) and put temporal on PATH, or set TEMPORAL_CLI to its path`);
      mkdirSync(join(bare, 'scripts'));
      copyFileSync(SCRIPT, join(bare, 'scripts', 'install-temporal'));
      assert.throws(() => temporalCliPath({ PATH: '' }, bare), /the Temporal CLI is not installed \(looked for .+ and temporal on PATH\); run: bash scripts\/install-temporal$/);
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });
});
