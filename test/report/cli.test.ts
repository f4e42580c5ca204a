import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { renderReport } from '../../src/report/html';
import { runCli } from '../helpers/cli';
import { sampleReport } from './fixture';

describe('ftpipe report', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ftpipe-report-cli-'));
  const json = join(dir, 'report.json');
  writeFileSync(json, JSON.stringify(sampleReport()));

  it('writes the HTML from a saved report and prints its path', async () => {
    const out = join(dir, 'out.html');
    const { code, output } = await runCli(['report', '--from-json', json, '--out', out]);
    assert.equal(code, 0, output);
    assert.equal(output.trim(), out);
    assert.equal(readFileSync(out, 'utf8'), renderReport(sampleReport()));
  });

  it('names the default file after the run, made safe for a path', async () => {
    writeFileSync(json, JSON.stringify(sampleReport({ runName: 'weekly/../bikes run' })));
    const { code, output } = await runCli(['report', '--from-json', json]);
    assert.equal(code, 0, output);
    const written = output.trim();
    try {
      assert.match(written, /\/weekly_.._bikes_run-report\.html$/);
      assert.match(readFileSync(written, 'utf8'), /weekly\/\.\.\/bikes run/);
    } finally {
      rmSync(written, { force: true });
    }
  });

  it('exits 2 without a run or a file, and 1 with a clear message on a bad file', async () => {
    const usage = await runCli(['report']);
    assert.equal(usage.code, 2, usage.output);
    assert.match(usage.output, /name a run .* or give --from-json/);
    const missing = await runCli(['report', '--from-json', join(dir, 'none.json')]);
    assert.equal(missing.code, 1);
    assert.match(missing.output, /none\.json: no such file/);
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ runName: 'x' }));
    const bad = await runCli(['report', '--from-json', join(dir, 'bad.json')]);
    assert.equal(bad.code, 1);
    assert.match(bad.output, /bad\.json: not a run report: jobId: /);
  });
});
