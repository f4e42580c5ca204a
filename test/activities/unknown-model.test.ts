/**
 * A base model the catalogue does not list: preflight refuses it before any Azure call, naming `baseModel`, the
 * profile, the models it knows and the way to add one Azure offers since; once the profile's catalogue lists it (the
 * example in docs/how-a-run-works.md, as written there), the same run passes preflight.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { preflightActivities } from '../../activities/preflight';
import { BUILTIN_CATALOG } from '../../src/catalog';
import { ROOT } from '../helpers/cli';
import { failure, runActivity, startActivityTestEnv, type ActivityTestEnv } from './helpers';

const SWC = 'ftpipe-swc';
const KNOWN = BUILTIN_CATALOG.models.map((m) => m.id).join(', ');
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The profile catalogue of the docs' example: the yaml block of the section "A model the catalogue does not list". */
function docsExampleCatalog(): { models: { id: string }[] } {
  const doc = readFileSync(join(ROOT, 'docs/how-a-run-works.md'), 'utf8');
  const section = doc.slice(doc.indexOf('### A model the catalogue does not list'));
  const block = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(block, 'docs/how-a-run-works.md: no yaml block in "A model the catalogue does not list"');
  const profile = (parse(block) as { profiles: { catalog: { models: { id: string }[] } }[] }).profiles[0];
  assert.ok(profile?.catalog, 'the example profile has a catalog');
  return profile.catalog;
}

describe('preflight: a base model the catalogue does not list', () => {
  let t: ActivityTestEnv;
  const example = docsExampleCatalog();
  const newModel = example.models[0]!.id;

  before(async () => {
    t = await startActivityTestEnv({}, (all) => [...all, { ...all.find((p) => p.name === SWC)!, name: 'swc-newer', catalog: { strict: false, ...example } }]);
  });
  after(() => t.emu.stop());

  const preflight = (profile: string, baseModel: string) => runActivity(() => preflightActivities(t.deps, t.azure).preflight({
    profile, baseModel, trainingType: 'Standard', method: { type: 'supervised' }, deployment: { type: 'GlobalStandard', capacity: 1 },
  }));

  it('refuses it at once, naming baseModel, the profile and the known models, before any Azure call', async () => {
    assert.equal(BUILTIN_CATALOG.models.some((m) => m.id === newModel), false, `the docs' example model ${newModel} is not built in`);
    t.emu.control.clearRequests();
    await assert.rejects(preflight(SWC, newModel), failure('UnknownModel', true, new RegExp(
      `^baseModel: "${escape(newModel)}" is not in the model catalogue of ${BUILTIN_CATALOG.date} \\(known: ${escape(KNOWN)}\\); `
      + `for a model Azure added since, list it in the profile's catalog\\.models or an FTPIPE_CATALOG file .*docs/how-a-run-works\\.md#a-model-the-catalogue-does-not-list\\) \\(profile "${SWC}"\\)$`,
    )));
    assert.deepEqual(t.emu.control.requests({}).map((r) => r.route), [], 'nothing was asked of Azure');
  });

  it('refuses a fine-tuned model whose base it does not list the same way', async () => {
    const fineTuned = `${newModel}-2025-08-07.ft-0123456789abcdef0123456789abcdef-support`;
    await assert.rejects(preflight(SWC, fineTuned), failure('UnknownModel', true, new RegExp(`^baseModel: the base of fine-tuned model "${escape(fineTuned)}" is not in the model catalogue`)));
  });

  it('accepts it once the profile\'s catalogue lists it, as the docs show', async () => {
    const result = await preflight('swc-newer', newModel);
    assert.equal(result.catalogModel, `${newModel}-2025-08-07`);
    // The catalogue's checks pass; the emulator's ARM model list, like Azure's of an older date, lacks the SKU.
    assert.deepEqual(result.warnings, [`deployment.capacity: Azure's model list for swedencentral has no GlobalStandard SKU for ${newModel} 2025-08-07; capacity not checked`]);
  });
});
