/** The model catalogue: built-in data as the seed docs state it, and the user's extension file. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  BUILTIN_CATALOG, CatalogConfigError, deploymentTypesFor, extendCatalog, loadCatalog, resolveModel, trainingTypesFor, versionedModelId,
} from '../../src/catalog';

const model = (id: string) => resolveModel(id)!.entry;
const extraModels = join(__dirname, 'fixtures', 'catalog', 'extra-models.yaml');

describe('built-in catalogue (seed: fine-tuning model table and deployment types)', () => {
  it('holds each model\'s training context, modality and methods', () => {
    const rows = BUILTIN_CATALOG.models.map((m) => [versionedModelId(m), m.trainingContextTokens, m.modality, m.methods.join('+')]);
    assert.deepEqual(rows, [
      ['gpt-4o-mini-2024-07-18', 65_536, 'text', 'supervised'],
      ['gpt-4o-2024-08-06', 65_536, 'text+vision', 'supervised+dpo'],
      ['gpt-4.1-2025-04-14', 65_536, 'text+vision', 'supervised+dpo'],
      ['gpt-4.1-mini-2025-04-14', 65_536, 'text', 'supervised+dpo'],
      ['gpt-4.1-nano-2025-04-14', 32_768, 'text', 'supervised'],
      ['o4-mini-2025-04-16', 65_536, 'text', 'reinforcement'],
      ['Ministral-3B-2411', null, 'text', 'supervised'],
      ['Qwen-32B-1', 8_192, 'text', 'supervised'],
    ]);
  });

  it('knows training and deployment types per region', () => {
    assert.deepEqual(trainingTypesFor(model('gpt-4o'), 'East US2'), ['Standard', 'Global', 'Developer']);
    assert.deepEqual(trainingTypesFor(model('gpt-4o'), 'japaneast'), []);
    assert.deepEqual(trainingTypesFor(model('gpt-4.1-nano'), 'polandcentral'), []);
    assert.deepEqual(trainingTypesFor(model('o4-mini'), 'swedencentral'), ['Standard', 'Global', 'Developer'], 'Developer from the recordings (src/catalog/models.ts o4-mini source notes)');
    assert.deepEqual(deploymentTypesFor(model('gpt-4o-mini'), 'swedencentral'), ['GlobalStandard', 'ProvisionedManaged']);
    assert.deepEqual(deploymentTypesFor(model('gpt-4.1'), 'northcentralus'), ['Standard', 'GlobalStandard', 'DeveloperTier', 'ProvisionedManaged']);
  });

  it('marks counts for non-OpenAI models as approximate', () => {
    assert.equal(model('Qwen-32B').approximateTokenCounts, true);
    assert.equal(model('gpt-4.1').approximateTokenCounts, undefined);
  });
});

describe('catalogue extension', () => {
  it('adds models and regions and overrides fields of built-in ones from YAML', async () => {
    const catalog = await loadCatalog({ extraModelsFile: extraModels });
    const added = resolveModel('my-model-2026-01-01', catalog)!.entry;
    assert.equal(added.encoding, 'o200k_base');
    assert.deepEqual(deploymentTypesFor(added, 'swedencentral'), ['Standard', 'GlobalStandard']);
    const nano = resolveModel('gpt-4.1-nano', catalog)!.entry;
    assert.equal(nano.trainingContextTokens, 65_536);
    assert.deepEqual(nano.methods, ['supervised', 'dpo']);
    assert.deepEqual(nano.training, model('gpt-4.1-nano').training, 'fields not given keep their built-in values');
    assert.ok(catalog.regions.some((r) => r.name === 'newregion'));
    assert.equal(BUILTIN_CATALOG.models.length, 8, 'the built-in catalogue is not modified');
  });

  it('reads the file FTPIPE_CATALOG names, and JSON as well as YAML', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ftpipe-catalog-'));
    const file = join(dir, 'models.json');
    writeFileSync(file, JSON.stringify({ models: [{ id: 'gpt-4o', trainingContextTokens: 1000 }] }));
    const catalog = await loadCatalog({ env: { FTPIPE_CATALOG: file } });
    assert.equal(resolveModel('gpt-4o', catalog)!.entry.trainingContextTokens, 1000);
    assert.equal(await loadCatalog({ env: {} }), BUILTIN_CATALOG);
  });

  it('names the file, entry and field of a bad entry', async () => {
    assert.throws(() => extendCatalog(BUILTIN_CATALOG, { models: [{ id: 'new-model', version: '1' }] }, 'extra.yaml'), (error: Error) => {
      assert.ok(error instanceof CatalogConfigError);
      assert.match(error.message, /^extra\.yaml: models\[0\] \(new-model\)\.trainingContextTokens: /);
      return true;
    });
    assert.throws(() => extendCatalog(BUILTIN_CATALOG, { models: [{ id: 'gpt-4o', modality: 'audio' }] }, 'extra.yaml'), /models\[0\] \(gpt-4o\)\.modality/);
    assert.throws(() => extendCatalog(BUILTIN_CATALOG, { models: [{ id: 'gpt-4o', contextWindow: 5 }] }, 'extra.yaml'), /models\[0\] \(gpt-4o\).*contextWindow/);
    assert.throws(() => extendCatalog(BUILTIN_CATALOG, { model: [] }, 'extra.yaml'), /extra\.yaml: .*model/);
    await assert.rejects(loadCatalog({ extraModelsFile: '/no/such/catalog.yaml' }), /cannot read catalogue file \/no\/such\/catalog\.yaml: ENOENT/);
  });

  it('names the line of the field at fault in a catalogue file (of its entry, for a field the entry lacks)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ftpipe-catalog-'));
    const write = (name: string, text: string): string => {
      const file = join(dir, name);
      writeFileSync(file, text);
      return file;
    };
    const override = write('override.yaml', ['date: 2026-12-01', 'models:', '  - id: gpt-4.1-nano', '    trainingContextTokens: 65536', '  - id: gpt-4o', '    modality: audio', ''].join('\n'));
    await assert.rejects(loadCatalog({ extraModelsFile: override }), (error: Error) => {
      assert.ok(error instanceof CatalogConfigError);
      assert.match(error.message, new RegExp(`^${override.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:6: models\\[1\\] \\(gpt-4o\\)\\.modality: `));
      return true;
    });
    const lacking = write('new.json', JSON.stringify({ models: [{ id: 'new-model', version: '1' }] }, null, 2));
    await assert.rejects(loadCatalog({ extraModelsFile: lacking }), /new\.json:3: models\[0\] \(new-model\)\.trainingContextTokens: .*; .*new\.json:3: models\[0\] \(new-model\)\.inputTokens: /);
    await assert.rejects(loadCatalog({ extraModelsFile: write('bad.yaml', 'models:\n  - id: [\n') }), (error: Error) => error instanceof CatalogConfigError && /bad\.yaml:\d+:\d+: not valid YAML\/JSON: /.test(error.message));
  });
});
