/**
 * The client from another project: `npm pack` makes the tarball, a temporary project installs it (unpacked into its
 * node_modules, as npm does; its dependencies resolve from this project's node_modules above it), type-checks a file
 * that uses the exports, and runs it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ROOT } from '../helpers/cli';

const run = promisify(execFile);

const CONSUMER = `
import { FtpipeClient, FtpipeSchedules, PipelineAlreadyRunningError, PipelineInputError, ScheduleOptionsError, parsePipelineInput, type PipelineInput, type PipelineResult, type RunReport } from 'ftpipe';

const input: PipelineInput = { runName: 'support-v7', profile: 'prod-swc', baseModel: 'gpt-4.1-mini', training: { path: '/data/train.jsonl' } };
// @ts-expect-error runName is a string: the input type is real, not any
const wrong: PipelineInput = { ...input, runName: 7 };
void wrong;
const outcome = (result: PipelineResult): string => result.outcome;
const reportRun = (report: RunReport): string => report.runName;
void outcome; void reportRun;

let issues: string[] = [];
try {
  parsePipelineInput({ ...input, trainingType: 'Regional' });
} catch (err) {
  if (err instanceof PipelineInputError) issues = err.issues;
}
const names = [FtpipeClient, FtpipeSchedules, PipelineAlreadyRunningError, ScheduleOptionsError].map((c) => c.name);
console.log(JSON.stringify({ issues, names, parsed: parsePipelineInput(input).trainingType }));
`;

describe('the client package from another project', () => {
  const dir = join(ROOT, '.ftpipe');
  mkdirSync(dir, { recursive: true });
  // Inside this project, so that the package's own dependencies resolve from its node_modules.
  const project = mkdtempSync(join(dir, 'consumer-'));
  after(() => rmSync(project, { recursive: true, force: true }));

  it('packs, installs into a temporary project, type-checks and runs a file that uses its exports', async () => {
    assert.ok(existsSync(join(ROOT, 'dist', 'src', 'client', 'index.d.ts')), 'the package is built: run `npm run build` (npm install does it)');
    const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', project], { cwd: ROOT });
    const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
    assert.ok(info, packed.stdout);
    const files = info.files.map((f) => f.path);
    assert.ok(files.includes('dist/src/client/index.js') && files.includes('dist/src/client/index.d.ts') && files.includes('bin/ftpipe.js'), files.slice(0, 20).join(', '));
    assert.ok(!files.some((f) => f.startsWith('test/') || f.startsWith('src/') || f.startsWith('node_modules/')), 'only the built package is packed');

    mkdirSync(join(project, 'node_modules'));
    await run('tar', ['-xzf', join(project, info.filename), '-C', join(project, 'node_modules')]);
    renameSync(join(project, 'node_modules', 'package'), join(project, 'node_modules', 'ftpipe'));
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'commonjs' }));
    writeFileSync(join(project, 'consumer.ts'), CONSUMER);
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, module: 'node16', moduleResolution: 'node16', target: 'es2022', skipLibCheck: true, outDir: 'out', types: ['node'], typeRoots: [join(ROOT, 'node_modules', '@types')] },
      files: ['consumer.ts'],
    }));
    const tsc = await run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project]).catch((err: { stdout: string }) => assert.fail(`the consumer does not type-check:\n${err.stdout}`));
    assert.equal(tsc.stdout, '');
    const output = await run(process.execPath, [join(project, 'out', 'consumer.js')], { cwd: project });
    const result = JSON.parse(output.stdout) as { issues: string[]; names: string[]; parsed: string };
    assert.deepEqual(result.names, ['FtpipeClient', 'FtpipeSchedules', 'PipelineAlreadyRunningError', 'ScheduleOptionsError']);
    assert.ok(result.issues.some((i) => i.startsWith('trainingType: ')), JSON.stringify(result.issues));
    assert.equal(result.parsed, 'Standard');
  });
});
