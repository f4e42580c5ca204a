/** A profile's own catalogue entries (profiles[].catalog) checked when the worker loads its configuration. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BUILTIN_CATALOG, extendCatalog, resolveModel } from '../../src/catalog';
import { checkProfileCatalogs, loadWorkerConfig } from '../../src/config/worker-config';

const PROFILE = ['  - name: p1', '    endpoint: https://a.openai.azure.com', '    subscriptionId: s', '    resourceGroup: r', '    account: a', '    region: swedencentral', '    auth: {type: entra}'];

function configFile(lines: string[]): string {
  const file = join(mkdtempSync(join(tmpdir(), 'ftpipe-profile-catalog-')), 'ftpipe.config.yaml');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

describe('a profile\'s own catalogue entries', () => {
  it('stop the worker at start naming the file\'s line and the field, for the entry\'s own field or one it lacks', () => {
    const file = configFile(['profiles:', ...PROFILE, '  - name: p2', ...PROFILE.slice(1), '    catalog:', '      models:', '        - id: gpt-4o', '          modality: audio']);
    assert.throws(() => checkProfileCatalogs(loadWorkerConfig(file), BUILTIN_CATALOG, file), (err: Error) => {
      assert.equal(err.message.replace(/: Invalid option.*$/, ''), `invalid ftpipe configuration: ${file}:19: profiles.1.catalog.models[0] (gpt-4o).modality`);
      return true;
    });
    const lacking = configFile(['profiles:', ...PROFILE, '    catalog:', '      models:', '        - id: gpt-9', '          version: "1"']);
    assert.throws(() => checkProfileCatalogs(loadWorkerConfig(lacking), BUILTIN_CATALOG, lacking), new RegExp(`${lacking.replace(/[.\\/]/g, '\\$&')}:11: profiles\\.0\\.catalog\\.models\\[0\\] \\(gpt-9\\)\\.trainingContextTokens: `));
  });

  it('are judged against the worker\'s catalogue, FTPIPE_CATALOG\'s entries included, as preflight judges them', () => {
    const added = { id: 'my-model', version: '1', trainingContextTokens: 1000, inputTokens: 1000, outputTokens: 100, modality: 'text', methods: ['supervised'], training: { standardRegions: ['swedencentral'], global: false, developer: false }, deployment: { Standard: ['swedencentral'] } };
    const worker = extendCatalog(BUILTIN_CATALOG, { models: [added] }, 'extra.yaml');
    const file = configFile(['profiles:', ...PROFILE, '    catalog:', '      models:', '        - id: my-model', '          trainingContextTokens: 2000']);
    const config = loadWorkerConfig(file);
    assert.doesNotThrow(() => checkProfileCatalogs(config, worker, file));
    assert.throws(() => checkProfileCatalogs(config, BUILTIN_CATALOG, file), /profiles\.0\.catalog\.models\[0\] \(my-model\)\.version: /, 'without the file\'s model it is a new entry lacking fields');
    assert.equal(resolveModel('my-model', worker)?.entry.trainingContextTokens, 1000, 'the worker\'s catalogue is not changed');
  });
});
