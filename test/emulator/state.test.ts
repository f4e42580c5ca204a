import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadEmulatorConfig, startEmulator } from '../../src/emulator';
import { resolveOptions } from '../../src/emulator/config';
import { chatJsonl, startTestEmulator, uploadProcessed } from './helpers';

describe('emulator state file, certificate reuse and config', () => {
  it('keeps files, jobs, deployments and the emulated clock across a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emu-state-'));
    const options = { stateFile: join(dir, 'state.json'), certDir: join(dir, 'certs') };
    const first = await startTestEmulator(options);
    const client = first.openai('ftpipe-swc');
    const content = chatJsonl(10, 'persist');
    const fileId = await uploadProcessed(first, 'ftpipe-swc', content);
    const p = first.profile('ftpipe-swc');
    const poller = await first
      .arm('ftpipe-swc')
      .deployments.beginCreateOrUpdate(p.resourceGroup, p.account, 'base', { sku: { name: 'GlobalStandard', capacity: 1 }, properties: { model: { format: 'OpenAI', name: 'gpt-4.1-mini', version: '2025-04-14' } } }, { updateIntervalInMs: 5 });
    first.emu.control.advanceClock(600);
    await poller.pollUntilDone();
    const job = await client.fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: fileId });
    first.emu.control.advanceClock(200);
    assert.equal((await client.fineTuning.jobs.retrieve(job.id)).status, 'pending');
    const clockBefore = first.emu.control.now().getTime();
    const certBefore = readFileSync(first.emu.caCertPath, 'utf8');
    await first.emu.stop();
    assert.ok(existsSync(options.stateFile));

    const second = await startTestEmulator(options);
    try {
      assert.equal(readFileSync(second.emu.caCertPath, 'utf8'), certBefore, 'the certificate in certDir is reused');
      assert.equal(second.emu.control.now().getTime(), clockBefore, 'the emulated clock resumes where it stopped');
      const again = second.openai('ftpipe-swc');
      assert.equal(Buffer.from(await (await again.files.content(fileId)).arrayBuffer()).toString('utf8'), content);
      const found = await again.fineTuning.jobs.list();
      assert.deepEqual(
        found.data.map((j) => [j.id, j.status]),
        [[job.id, 'pending']],
      );
      const deployment = await second.arm('ftpipe-swc').deployments.get(p.resourceGroup, p.account, 'base');
      assert.equal(deployment.properties?.provisioningState, 'Succeeded');
      second.emu.control.advanceClock(3 * 3600);
      assert.equal((await again.fineTuning.jobs.retrieve(job.id)).status, 'succeeded');
    } finally {
      await second.emu.stop();
    }
  });

  it('loads a state file written by an older emulator (queued jobs, fields added since)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emu-old-state-'));
    const options = { stateFile: join(dir, 'state.json'), certDir: join(dir, 'certs') };
    const first = await startTestEmulator(options);
    const fileId = await uploadProcessed(first, 'ftpipe-swc', chatJsonl(10, 'old'));
    const job = await first.openai('ftpipe-swc').fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: fileId });
    await first.emu.stop();
    const saved = JSON.parse(readFileSync(options.stateFile, 'utf8')) as { jobs: Record<string, unknown>[] };
    for (const j of saved.jobs) {
      j.status = 'queued';
      delete j.autoHyperparameters;
      delete j.trainingStartedAt;
    }
    writeFileSync(options.stateFile, JSON.stringify(saved));
    const second = await startTestEmulator(options);
    try {
      const client = second.openai('ftpipe-swc');
      const loaded = await client.fineTuning.jobs.retrieve(job.id);
      assert.equal(loaded.status, 'pending');
      assert.deepEqual(loaded.hyperparameters, { n_epochs: 10, batch_size: 1, learning_rate_multiplier: 1 }, 'what was auto is not known any more: shown resolved (10 examples: 10 epochs)');
      second.emu.control.advanceClock(3 * 3600);
      assert.equal((await client.fineTuning.jobs.retrieve(job.id)).status, 'succeeded');
    } finally {
      await second.emu.stop();
    }
  });

  it('loads accounts and settings from a YAML config, naming bad fields', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emu-config-'));
    const good = join(dir, 'emulator.yaml');
    writeFileSync(
      good,
      [
        'accounts:',
        '  - { name: team-a, subscriptionId: sub-a, resourceGroup: rg-a, region: swedencentral, apiKey: key-a }',
        '  - { name: team-b, subscriptionId: sub-b, resourceGroup: rg-b, region: eastus2, apiKey: key-b }',
        'acceptedTokens: [token-1]',
        'clockScale: 60',
        'timings: { deploymentNotReadySeconds: 5, copySeconds: 10 }',
        'deploymentNotReadySeconds: 0',
        'faults:',
        '  - { route: jobs.create, action: error, status: 503, rate: 0.1 }',
      ].join('\n'),
    );
    const options = loadEmulatorConfig(good);
    const emu = await startEmulator(options);
    try {
      assert.deepEqual(
        emu.accounts.map((a) => [a.name, a.armId]),
        [
          ['team-a', '/subscriptions/sub-a/resourceGroups/rg-a/providers/Microsoft.CognitiveServices/accounts/team-a'],
          ['team-b', '/subscriptions/sub-b/resourceGroups/rg-b/providers/Microsoft.CognitiveServices/accounts/team-b'],
        ],
      );
      assert.equal(emu.endpointFor('team-b'), `${emu.dataPlaneUrl}/team-b`);
      assert.deepEqual(emu.acceptedTokens, ['token-1']);
      assert.equal(emu.control.clockScale(), 60);
      assert.equal(emu.control.faults().length, 1);
      const timings = resolveOptions(options).timings;
      assert.deepEqual([timings.deploymentNotReadySeconds, timings.copySeconds, timings.jobQueueSeconds], [0, 10, 300]);
    } finally {
      await emu.stop();
    }

    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'accounts:\n  - { name: admin, subscriptionId: s, resourceGroup: r, region: eastus2, apiKey: k }\nclockScale: fast\n');
    assert.throws(() => loadEmulatorConfig(bad), (err: Error) => /accounts\.0\.name: "admin" is reserved/.test(err.message) && /clockScale/.test(err.message));
    await assert.rejects(
      startEmulator({ accounts: [{ name: 'dup', subscriptionId: 's', resourceGroup: 'r', region: 'eastus2', apiKey: 'k' }, { name: 'DUP', subscriptionId: 's', resourceGroup: 'r', region: 'eastus2', apiKey: 'k' }] }),
      /account "DUP" is listed twice/,
    );
  });
});
