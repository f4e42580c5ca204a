/**
 * Preflight's capacity check against the emulator's ARM Models_List and Usages_List: a capacity outside the SKU's
 * range or above the free quota is refused, naming the field and what Azure would accept; an accepted plan costs one
 * read of each list; what the identity may not read is a warning, not a refusal.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { preflightActivities } from '../../activities/preflight';
import type { Exchange } from '../../src/emulator';
import { validateExchanges } from '../conformance/validate';
import { ROOT } from '../helpers/cli';
import { failure, runActivity, startActivityTestEnv, type ActivityTestEnv } from './helpers';
import { join } from 'node:path';

const SWC = 'ftpipe-swc';
const NCUS = 'ftpipe-ncus';

describe('preflight: deployment capacity as Azure reports it', () => {
  let t: ActivityTestEnv;
  let acts: ReturnType<typeof preflightActivities>;
  let subscription: string;
  let ncusAccount: string;

  const base = { profile: SWC, baseModel: 'gpt-4.1-mini', trainingType: 'Standard' as const, method: { type: 'supervised' as const } };
  const preflight = (extra: Partial<Parameters<typeof acts.preflight>[0]>) => runActivity(() => acts.preflight({ ...base, ...extra }));

  before(async () => {
    t = await startActivityTestEnv();
    t.deps.config.dataRoots = [ROOT];
    acts = preflightActivities(t.deps, t.azure);
    subscription = t.emu.account(SWC).subscriptionId;
    ncusAccount = t.emu.account(NCUS).armId;
  });
  after(() => t.emu.stop());
  beforeEach(() => {
    t.emu.capacity.reset();
    t.emu.control.clearRequests();
  });

  it('accepts a capacity within the range and the free quota, with one read of each list and no write', async () => {
    const exchanges: Exchange[] = [];
    const untap = t.emu.control.tapExchanges((e) => exchanges.push(e));
    const result = await preflight({ deployment: { type: 'GlobalStandard', capacity: 5 } });
    untap();
    assert.deepEqual(result.warnings, []);
    assert.deepEqual(validateExchanges(exchanges), [], 'both lists as the 2025-09-01 spec shapes them');
    const reads = t.emu.control.requests({}).filter((r) => r.route.startsWith('arm.'));
    assert.deepEqual(reads.map((r) => `${r.method} ${r.route}`).sort(), ['GET arm.models.list', 'GET arm.usages.list']);
  });

  it('refuses a capacity outside the SKU\'s range, naming the field and the range', async () => {
    await assert.rejects(preflight({ deployment: { type: 'GlobalStandard', capacity: 101 } }), failure('CapacityNotAccepted', true, /^deployment\.capacity: capacity 101 is not accepted for gpt-4\.1-mini 2025-04-14 on GlobalStandard in swedencentral \(profile "ftpipe-swc"\); Azure accepts minimum 1, maximum 100 \(default 1\)$/));
    t.emu.capacity.setSkuCapacity('gpt-4.1-mini', 'GlobalStandard', { minimum: 10, maximum: 100, step: 10, default: 10 });
    await assert.rejects(preflight({ deployment: { type: 'GlobalStandard', capacity: 15 } }), failure('CapacityNotAccepted', true, /Azure accepts minimum 10, maximum 100, in steps of 10 \(default 10\)$/));
    await assert.rejects(preflight({ deployment: { type: 'GlobalStandard', capacity: 5 } }), failure('CapacityNotAccepted', true, /capacity 5 is not accepted/));
    t.emu.capacity.setSkuCapacity('gpt-4.1-mini', 'GlobalStandard', { minimum: 1, maximum: 100, step: 1, default: 1, allowedValues: [1, 2, 4] });
    await assert.rejects(preflight({ deployment: { type: 'GlobalStandard', capacity: 3 } }), failure('CapacityNotAccepted', true, /Azure accepts one of 1, 2, 4$/));
  });

  it('refuses a capacity above the free quota, with the limit, what is used and what would be accepted', async () => {
    t.emu.capacity.setUsage(subscription, 'swedencentral', 'OpenAI.GlobalStandard.gpt-4.1-mini', { limit: 30, extraUsed: 25 });
    await assert.rejects(
      preflight({ deployment: { type: 'GlobalStandard', capacity: 10 } }),
      failure('CapacityOverQuota', true, /^deployment\.capacity: capacity 10 is above the free quota of OpenAI\.GlobalStandard\.gpt-4\.1-mini in swedencentral \(subscription [0-9a-f-]+\): limit 30, used 25; accepted: at most 5, or ask Azure for more quota$/),
    );
    assert.deepEqual((await preflight({ deployment: { type: 'GlobalStandard', capacity: 5 } })).warnings, []);
  });

  it('checks the copies\' deployments in their own region, and the evaluation\'s Developer-tier deployments', async () => {
    t.emu.capacity.setUsage(subscription, 'northcentralus', 'OpenAI.Standard.gpt-4.1-mini', { limit: 10, extraUsed: 8 });
    const copies = [{ destinationResourceId: ncusAccount, region: 'northcentralus', deploy: { profile: NCUS, name: 'bikes-ncus', type: 'Standard' as const, capacity: 3 } }];
    await assert.rejects(preflight({ deployment: { type: 'GlobalStandard', capacity: 1 }, copies }), failure('CapacityOverQuota', true, /^copies\.0\.deploy\.capacity: capacity 3 is above the free quota of OpenAI\.Standard\.gpt-4\.1-mini in northcentralus .*at most 2,/));
    await preflight({ deployment: { type: 'GlobalStandard', capacity: 1 }, copies: [{ ...copies[0]!, deploy: { ...copies[0]!.deploy, capacity: 2 } }] });

    t.emu.capacity.setUsage(subscription, 'swedencentral', 'OpenAI.DeveloperTier.gpt-4.1-mini', { limit: 1, extraUsed: 1 });
    await assert.rejects(preflight({ evalSetPath: join(ROOT, 'examples', 'data', 'bike-shop-eval.jsonl') }), failure('CapacityOverQuota', true, /^evaluation\.evalSet \(each checkpoint\): capacity 1 is above the free quota of OpenAI\.DeveloperTier\.gpt-4\.1-mini/));
  });

  it('checks the evaluation baseline\'s deployment: a base model on GlobalStandard, one unit, in the run\'s region', async () => {
    const evalSetPath = join(ROOT, 'examples', 'data', 'bike-shop-eval.jsonl');
    t.emu.capacity.setUsage(subscription, 'swedencentral', 'OpenAI.GlobalStandard.gpt-4.1', { limit: 20, extraUsed: 20 });
    await assert.rejects(
      preflight({ evalSetPath, baselineModel: 'gpt-4.1' }),
      failure('CapacityOverQuota', true, /^evaluation\.baseline\.model: capacity 1 is above the free quota of OpenAI\.GlobalStandard\.gpt-4\.1 in swedencentral \(subscription [0-9a-f-]+\): limit 20, used 20; accepted: at most 0, or ask Azure for more quota$/),
    );
    t.emu.capacity.setSkuCapacity('gpt-4.1', 'GlobalStandard', { minimum: 10, maximum: 100, step: 10, default: 10 });
    await assert.rejects(
      preflight({ evalSetPath, baselineModel: 'gpt-4.1' }),
      failure('CapacityNotAccepted', true, /^evaluation\.baseline\.model: capacity 1 is not accepted for gpt-4\.1 2025-04-14 on GlobalStandard in swedencentral \(profile "ftpipe-swc"\); Azure accepts minimum 10, maximum 100, in steps of 10/),
    );
    t.emu.capacity.reset();
    t.emu.control.clearRequests();
    assert.deepEqual((await preflight({ evalSetPath, baselineModel: 'gpt-4.1' })).warnings, []);
    const reads = t.emu.control.requests({}).filter((r) => r.route.startsWith('arm.'));
    assert.deepEqual(reads.map((r) => `${r.method} ${r.route}`).sort(), ['GET arm.models.list', 'GET arm.usages.list'], 'the checkpoints and the baseline share one read of each list');
  });

  it('checks a fine-tuned baseline on the Developer tier, and refuses a base model the catalogue cannot deploy, before any Azure call', async () => {
    const evalSetPath = join(ROOT, 'examples', 'data', 'bike-shop-eval.jsonl');
    t.emu.capacity.setUsage(subscription, 'swedencentral', 'OpenAI.DeveloperTier.gpt-4.1-nano', { limit: 1, extraUsed: 1 });
    await assert.rejects(
      preflight({ evalSetPath, baselineModel: `gpt-4.1-nano-2025-04-14.ft-${'0a'.repeat(16)}-earlier` }),
      failure('CapacityOverQuota', true, /^evaluation\.baseline\.model: capacity 1 is above the free quota of OpenAI\.DeveloperTier\.gpt-4\.1-nano in swedencentral/),
    );
    t.emu.control.clearRequests();
    await assert.rejects(
      preflight({ evalSetPath, baselineModel: 'gpt-9-turbo' }),
      failure('UnknownModel', true, /^evaluation\.baseline\.model \(profile "ftpipe-swc"\): base model "gpt-9-turbo" is not in the model catalogue of \d{4}-\d{2}-\d{2}, so the version to deploy it with is unknown; accepted: a base model it lists \(gpt-4o-mini, .*\), a fine-tuned model, an existing deployment as evaluation\.baseline\.deployment, or the model added to the profile's catalogue or FTPIPE_CATALOG$/),
    );
    assert.deepEqual(t.emu.control.requests({}).filter((r) => r.route.startsWith('arm.')), [], 'refused from the catalogue, with no Azure call');
  });

  it('counts the run\'s lasting deployments in one place together', async () => {
    t.emu.capacity.setUsage(subscription, 'swedencentral', 'OpenAI.GlobalStandard.gpt-4.1-mini', { limit: 10 });
    const swcAccount = t.emu.account(SWC).armId;
    const copies = [{ destinationResourceId: swcAccount, region: 'swedencentral', deploy: { profile: SWC, name: 'bikes-again', type: 'GlobalStandard' as const, capacity: 4 } }];
    await assert.rejects(preflight({ deployment: { type: 'GlobalStandard', capacity: 7 }, copies }), failure('CapacityOverQuota', true, /copies\.0\.deploy\.capacity: .*limit 10, used 0, 7 of it for this run's other deployments; accepted: at most 3/));
  });

  it('warns, and does not refuse, when the identity may not read the lists', async () => {
    t.emu.control.addFault({ route: 'arm.usages.list', action: 'error', status: 403 });
    try {
      const result = await preflight({ deployment: { type: 'GlobalStandard', capacity: 5 } });
      assert.equal(result.warnings?.length, 1);
      assert.match(result.warnings[0]!, /^deployment\.capacity: not checked against the free quota of OpenAI\.GlobalStandard\.gpt-4\.1-mini in swedencentral: list usages in swedencentral answered HTTP 403/);
    } finally {
      t.emu.control.clearFaults();
    }
  });
});
