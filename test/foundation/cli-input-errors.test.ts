import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/cli';

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('the CLI\'s answers to typical mistakes, before and without a Temporal server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ftpipe-cli-input-'));
  const write = (name: string, text: string): string => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };

  it('names file, line and field of each fault in a pipeline file, and what a mistyped key meant (exit 2, nothing started)', async () => {
    const file = write('typos.yaml', [
      'runName: typos',
      'profile: emulator',
      'baseModel: gpt-4.1-mini',
      'training:',
      '  path: train.jsonl',
      'hyperparameters:',
      '  nEpoch: 3',
      'trainingType: standard',
      'deployment:',
      '  nmae: shop',
    ].join('\n'));
    // Nothing listens at the address: the input is refused before the CLI connects.
    const run = await runCli(['run', file, '--address', `127.0.0.1:${await closedPort()}`]);
    assert.equal(run.code, 2, run.output);
    assert.match(run.output, new RegExp(`${file.replace(/[.]/g, '\\.')}:7: hyperparameters\\.nEpoch: unknown key; did you mean "nEpochs"\\?`));
    assert.match(run.output, /typos\.yaml:8: trainingType: .*"Standard"/);
    assert.match(run.output, /typos\.yaml:10: deployment\.nmae: unknown key; did you mean "name"\?/);
    assert.doesNotMatch(run.output, /cannot reach Temporal|started/);

    // A webhook URL that is itself a credential, in an input otherwise well formed: its line too, before connecting.
    const hook = write('hook.yaml', ['runName: hook', 'profile: emulator', 'baseModel: gpt-4.1-mini', 'training:', '  path: train.jsonl', 'notify:', '  - url: https://discord.com/api/webhooks/1/secret'].join('\n'));
    const hooked = await runCli(['run', hook, '--address', `127.0.0.1:${await closedPort()}`]);
    assert.equal(hooked.code, 2, hooked.output);
    assert.match(hooked.output, /hook\.yaml:7: notify\.0\.url: this webhook URL is itself a credential \(Discord, Zapier and IFTTT put the secret in the path\)/);
    assert.doesNotMatch(hooked.output, /cannot reach Temporal|started/);
  });

  it('names the line and column of a syntax error, and a missing file, with exit 2', async () => {
    const broken = write('broken.yaml', 'runName: broken\ntraining:\n  path: a.jsonl\n validation:\n  path: b.jsonl\n');
    const syntax = await runCli(['run', broken]);
    assert.equal(syntax.code, 2, syntax.output);
    assert.match(syntax.output, /broken\.yaml:4:\d+: not valid YAML\/JSON: /);
    const missing = await runCli(['run', join(dir, 'missing.yaml')]);
    assert.equal(missing.code, 2, missing.output);
    assert.match(missing.output, /cannot read the pipeline file .*missing\.yaml: no such file/);
    const schedule = await runCli(['schedule', 'create', 'nightly', '--every', '1d', '--config', write('schedule.yaml', 'runName: nightly\nprofile: emulator\nbaseModel: gpt-4.1-mini\ntraining: { paht: a.jsonl }\n')]);
    assert.equal(schedule.code, 2, schedule.output);
    assert.match(schedule.output, /schedule\.yaml:4: training\.paht: unknown key; did you mean "path"\?/);
    const unitless = await runCli(['schedule', 'create', 'nightly', '--every', '3', '--config', broken]);
    assert.equal(unitless.code, 2, unitless.output);
    assert.match(unitless.output, /--every: "3" has no unit \(examples: 30s/);
  });

  it('says which Temporal address it could not reach, where the address came from, and how to give another', async () => {
    const port = await closedPort();
    const list = await runCli(['list'], { TEMPORAL_ADDRESS: `127.0.0.1:${port}` });
    assert.equal(list.code, 1, list.output);
    assert.match(list.output, new RegExp(`cannot reach Temporal at 127\\.0\\.0\\.1:${port} \\(TEMPORAL_ADDRESS; namespace default\\): .*--address host:port`));
  });
});
