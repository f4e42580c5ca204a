/** The catalogue as dated data: refusals only for what is known unavailable, warnings (or strict refusals) for the unlisted. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BUILTIN_CATALOG, assessDeploymentPlan, assessTrainingPlan, baseModelDeployment, catalogForProfile, isReasoningModel } from '../../src/catalog';

describe('training plans against the dated catalogue', () => {
  it('names a source and date for every built-in entry, and the catalogue\'s own date', () => {
    assert.match(BUILTIN_CATALOG.date, /^\d{4}-\d{2}-\d{2}$/);
    for (const m of BUILTIN_CATALOG.models) assert.ok(m.source.document.length > 0 && /^\d{4}-\d{2}-\d{2}$/.test(m.source.date), m.id);
  });

  it('warns about what Azure was seen accepting beyond the tables (gpt-4.1 Standard from eastus2, DPO on gpt-4o-mini)', () => {
    for (const plan of [
      { model: 'gpt-4.1', method: 'supervised', trainingType: 'Standard', region: 'eastus2' },
      { model: 'gpt-4o-mini', method: 'dpo', trainingType: 'Global', region: 'swedencentral' },
    ] as const) {
      const assessed = assessTrainingPlan(plan);
      assert.equal(assessed.refusal, undefined, JSON.stringify(plan));
      assert.equal(assessed.warnings.length, 1);
      assert.match(assessed.warnings[0]!, new RegExp(`not listed .* in the model catalogue of ${BUILTIN_CATALOG.date}`));
      assert.equal(assessTrainingPlan(plan, BUILTIN_CATALOG, true).refusal?.type !== undefined, true, 'refused under strict checks');
    }
    assert.deepEqual(assessTrainingPlan({ model: 'gpt-4.1-mini', method: 'supervised', trainingType: 'Standard', region: 'swedencentral' }).warnings, []);
  });

  it('lists RFT on o4-mini on the Developer tier, where the recordings beat the model table, and says so in its source notes', () => {
    for (const region of ['swedencentral', 'eastus2']) {
      assert.deepEqual(assessTrainingPlan({ model: 'o4-mini', method: 'reinforcement', trainingType: 'Developer', region }, BUILTIN_CATALOG, true), { entry: BUILTIN_CATALOG.models.find((m) => m.id === 'o4-mini'), fineTuned: false, warnings: [] });
    }
    const source = BUILTIN_CATALOG.models.find((m) => m.id === 'o4-mini')!.source;
    assert.match(source.notes ?? '', /trainingType developerTier .*2025-11-15-preview.*azure-sdk-assets.*the recordings win/);
    // A region without Global training has no Developer training either: still unlisted, a warning naming the field.
    const unlisted = assessTrainingPlan({ model: 'o4-mini', method: 'reinforcement', trainingType: 'Developer', region: 'marsnorth' });
    assert.match(unlisted.warnings.join('\n'), /^trainingType "Developer" is not listed for o4-mini from marsnorth/);
  });

  it('refuses reinforcement fine-tuning on the GPT models (documented o4-mini only), naming the method, even without strict checks', () => {
    for (const model of ['gpt-4o-mini', 'gpt-4o', 'gpt-4.1', 'gpt-4.1-mini', 'gpt-4.1-nano']) {
      const assessed = assessTrainingPlan({ model, method: 'reinforcement', trainingType: 'Developer', region: 'swedencentral' });
      assert.equal(assessed.refusal?.type, 'MethodNotSupported', model);
      assert.match(assessed.refusal?.message ?? '', new RegExp(`^method "reinforcement" is not available for ${model.replace(/\./g, '\\.')}: .*"only o4-mini supports RFT"`));
    }
  });

  it('refuses a model it does not list, naming baseModel and the known models, even without strict checks', () => {
    const assessed = assessTrainingPlan({ model: 'gpt-9', method: 'supervised', trainingType: 'Standard', region: 'swedencentral' });
    assert.deepEqual([assessed.refusal?.type, assessed.warnings], ['UnknownModel', []]);
    assert.match(assessed.refusal?.message ?? '', new RegExp(`^baseModel: "gpt-9" is not in the model catalogue of ${BUILTIN_CATALOG.date} \\(known: gpt-4o-mini, .*\\); for a model Azure added since, list it in the profile's catalog\\.models or an FTPIPE_CATALOG file`));
  });

  it('refuses what is known unavailable, even without strict checks', () => {
    const assessed = assessTrainingPlan({ model: 'Ministral-3B', method: 'supervised', trainingType: 'Standard', region: 'swedencentral' });
    assert.equal(assessed.refusal?.type, 'TrainingTypeNotAvailable');
    assert.match(assessed.refusal?.message ?? '', /"Not supported"/);
  });

  it('warns about a deployment type, region or model the deployment tables do not list, and refuses it only under strict checks', () => {
    assert.deepEqual(assessDeploymentPlan({ model: 'gpt-4.1-mini-2025-04-14.ft-0123456789abcdef0123456789abcdef', type: 'GlobalStandard', region: 'Sweden Central' }), { entry: BUILTIN_CATALOG.models.find((m) => m.id === 'gpt-4.1-mini'), fineTuned: true, warnings: [] });
    // The docs list Standard deployments of gpt-4.1-mini fine-tunes in eastus2 and northcentralus only.
    const unlisted = assessDeploymentPlan({ model: 'gpt-4.1-mini', type: 'Standard', region: 'swedencentral' });
    assert.equal(unlisted.refusal, undefined);
    assert.deepEqual(unlisted.warnings, [`deployment type "Standard" is not listed for fine-tuned gpt-4.1-mini in swedencentral in the model catalogue of ${BUILTIN_CATALOG.date} (listed there: GlobalStandard, DeveloperTier; source: Azure OpenAI "Fine-Tuning Model Guidance" (fine-tuning models table), 2025-02-06); Azure may offer it since`]);
    const strict = assessDeploymentPlan({ model: 'gpt-4.1-mini', type: 'Standard', region: 'swedencentral' }, BUILTIN_CATALOG, true);
    assert.equal(strict.refusal?.type, 'DeploymentTypeNotAvailable');
    assert.match(strict.refusal?.message ?? '', /not listed .*strict catalogue checks/);
    const unknown = assessDeploymentPlan({ model: 'gpt-9', type: 'GlobalStandard', region: 'swedencentral' });
    assert.deepEqual([unknown.refusal, unknown.warnings.length], [undefined, 1]);
    assert.equal(assessDeploymentPlan({ model: 'gpt-9', type: 'GlobalStandard', region: 'swedencentral' }, BUILTIN_CATALOG, true).refusal?.type, 'UnknownModel');
    const extended = catalogForProfile(BUILTIN_CATALOG, { name: 'p', catalog: { date: '2026-06-01', models: [{ id: 'gpt-4.1-mini', deployment: { Standard: ['eastus2', 'northcentralus', 'swedencentral'] } }] } });
    assert.deepEqual(assessDeploymentPlan({ model: 'gpt-4.1-mini', type: 'Standard', region: 'swedencentral' }, extended, true).warnings, []);
  });

  it('lets a profile extend or override the catalogue, dated', () => {
    const profile = { name: 'p', catalog: { date: '2026-06-01', models: [{ id: 'gpt-4.1', training: { standardRegions: ['eastus2', 'northcentralus', 'swedencentral'] } }] } };
    const extended = catalogForProfile(BUILTIN_CATALOG, profile);
    assert.equal(extended.date, '2026-06-01');
    assert.deepEqual(assessTrainingPlan({ model: 'gpt-4.1', method: 'supervised', trainingType: 'Standard', region: 'eastus2' }, extended).warnings, []);
    assert.equal(catalogForProfile(BUILTIN_CATALOG, { name: 'q' }), BUILTIN_CATALOG);
  });

  it('knows base-model versions for deployment and which models are reasoning models', () => {
    assert.deepEqual(baseModelDeployment('gpt-4.1-mini'), { name: 'gpt-4.1-mini', version: '2025-04-14' });
    assert.deepEqual(baseModelDeployment('gpt-4.1-mini-2025-04-14'), { name: 'gpt-4.1-mini', version: '2025-04-14' });
    assert.equal(baseModelDeployment('gpt-4.1-mini-2025-04-14.ft-0123456789abcdef0123456789abcdef'), undefined);
    assert.equal(isReasoningModel('o4-mini-2025-04-16.ft-0123456789abcdef0123456789abcdef:ckpt-step-10'), true);
    assert.equal(isReasoningModel('gpt-4.1-mini'), false);
  });
});
