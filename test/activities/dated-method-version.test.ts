/**
 * A DPO run on a Global or Developer tier is created on the dated family at the profile's apiVersion: one older than
 * 2025-01-01-preview has no `method` in its job create (Azure would train a supervised job on preference data), so
 * preflight refuses the run before any Azure call, naming the method, the profile, its apiVersion and the first
 * version that takes a method. Supervised (no method sent) and reinforcement (its own api-version) pass.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { preflightActivities, type PreflightInput } from '../../activities/preflight';
import { FIRST_DATED_METHOD_API_VERSION } from '../../src/azure/requests';
import { failure, runActivity, startActivityTestEnv, type ActivityTestEnv } from './helpers';

const SWC = 'ftpipe-swc';
const GRADER = { type: 'string_check' as const, name: 'exact', input: '{{sample.output_text}}', reference: '{{item.answer}}', operation: 'eq' as const };

describe('preflight: a method on a dated api-version without one', () => {
  let t: ActivityTestEnv;

  before(async () => {
    t = await startActivityTestEnv({}, (all) => {
      const swc = all.find((p) => p.name === SWC)!;
      return [...all, { ...swc, name: 'swc-ga', apiVersion: '2024-10-21' }, { ...swc, name: 'swc-first', apiVersion: FIRST_DATED_METHOD_API_VERSION }];
    });
  });
  after(() => t.emu.stop());

  const preflight = (profile: string, input: Pick<PreflightInput, 'baseModel' | 'method' | 'trainingType' | 'fromJob'>) =>
    runActivity(() => preflightActivities(t.deps, t.azure).preflight({ profile, ...input }));

  it('refuses DPO on the Global tier at 2024-10-21, naming the method, the profile, its apiVersion and the first version with a method, before any Azure call', async () => {
    t.emu.control.clearRequests();
    await assert.rejects(preflight('swc-ga', { baseModel: 'gpt-4o-mini', method: { type: 'dpo' }, trainingType: 'Global' }), failure('ApiVersionWithoutMethod', true, new RegExp(
      '^method: "dpo" on the Global tier is created on the dated API at profile "swc-ga"\'s apiVersion "2024-10-21", whose job create has no method '
      + `\\(Azure's dated specs define one from ${FIRST_DATED_METHOD_API_VERSION}\\); .*Set the profile's apiVersion to ${FIRST_DATED_METHOD_API_VERSION} or later`,
    )));
    assert.deepEqual(t.emu.control.requests({}).map((r) => r.route), [], 'nothing was asked of Azure');
  });

  it('passes DPO there from 2025-01-01-preview, DPO on Standard (v1), supervised and reinforcement at 2024-10-21, and a fromJob run', async () => {
    await preflight('swc-first', { baseModel: 'gpt-4o-mini', method: { type: 'dpo' }, trainingType: 'Global' });
    await preflight('swc-ga', { baseModel: 'gpt-4o-mini', method: { type: 'dpo' }, trainingType: 'Standard' });
    await preflight('swc-ga', { baseModel: 'gpt-4.1-mini', method: { type: 'supervised' }, trainingType: 'Global' });
    await preflight('swc-ga', { baseModel: 'o4-mini', method: { type: 'reinforcement', grader: GRADER }, trainingType: 'Global' });
    // A run carrying on from a job creates none.
    await preflight('swc-ga', { baseModel: 'gpt-4o-mini', method: { type: 'dpo' }, trainingType: 'Global', fromJob: 'ftjob-0123456789abcdef0123456789abcdef' });
  });
});
