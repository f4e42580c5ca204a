/**
 * The modules the workflow bundle preloads (WORKFLOW_PRELOAD_MODULES: zod and the schemas the workflows parse, evaluated
 * once per worker instead of once per execution) survive what the SDK does to them: after preloading, the SDK's
 * reusable V8 context deep-freezes the exports of every module loaded so far. zod 4 builds a schema's members on first
 * use as own properties, so a frozen schema throws "Cannot define property ..., object is not extensible" inside a
 * workflow task. Two checks: no module of the preloaded graph exports a zod schema as a value, and after freezing every
 * export of the graph as the SDK does (before any parse), the workflows' parse functions still give their answers.
 */
import assert from 'node:assert/strict';
import { relative } from 'node:path';
import { describe, it } from 'node:test';
import Long from 'long';
import { z } from 'zod';
import { DEFAULT_LIMITS } from '../../src/admission/limits';
import * as input from '../../src/pipeline/input';
import { WORKFLOW_PRELOAD_MODULES } from '../../src/stack/workflow-bundle';
import * as messages from '../../workflows/boundary-schemas';
import { ROOT } from '../helpers/cli';

/** Every module the preload entries load, by the graph Node records (`module.children`). */
function preloadedModules(): NodeJS.Module[] {
  // The entries are paths known at run time (the imports above load the current ones already).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  for (const entry of WORKFLOW_PRELOAD_MODULES) require(entry);
  const seen = new Map<string, NodeJS.Module>();
  const walk = (module: NodeJS.Module): void => {
    if (seen.has(module.id)) return;
    seen.set(module.id, module);
    module.children.forEach(walk);
  };
  for (const entry of WORKFLOW_PRELOAD_MODULES) walk(require.cache[entry]!);
  return [...seen.values()];
}

/**
 * Paths to zod schemas and regular expressions reachable from `value` through properties, as the SDK's freeze walks
 * them (not into functions): zod's regex checks reset their pattern's `lastIndex`, which a frozen RegExp refuses.
 */
function schemasIn(value: unknown, path: string, seen = new Set<unknown>()): string[] {
  if (value === null || typeof value !== 'object' || seen.has(value)) return [];
  seen.add(value);
  if (value instanceof z.ZodType || value instanceof RegExp) return [path];
  return Object.getOwnPropertyNames(value).flatMap((key) => {
    const descriptor = Object.getOwnPropertyDescriptor(value, key);
    return descriptor && 'value' in descriptor ? schemasIn(descriptor.value, `${path}.${key}`, seen) : descriptor?.get ? schemasIn((value as Record<string, unknown>)[key], `${path}.${key}`, seen) : [];
  });
}

/** What @temporalio/worker 1.24's reusable V8 context does to preloaded modules (lib/workflow/reusable-vm.js, deepFreeze). */
function freezeAsTheSdkDoes(object: unknown, visited = new WeakSet<object>()): void {
  if (object === null || (typeof object !== 'object' && typeof object !== 'function') || visited.has(object)) return;
  visited.add(object);
  if (Object.isFrozen(object)) return;
  if (typeof object === 'object') {
    for (const name of [...Object.getOwnPropertyNames(object), ...Object.getOwnPropertySymbols(object)]) {
      const value = (object as Record<string | symbol, unknown>)[name];
      if (value && (typeof value === 'object' || typeof value === 'function')) {
        try {
          freezeAsTheSdkDoes(value, visited);
        } catch {
          // As the SDK: some objects (typed arrays) cannot be frozen.
        }
      }
    }
  }
  Object.freeze(object);
}

const VALID = {
  runName: 'preload-1',
  profile: 'emulator',
  baseModel: 'gpt-4.1-mini',
  training: { path: 'train.jsonl' },
  validation: { fileId: 'file-abc123' },
  method: { type: 'dpo' },
  hyperparameters: { nEpochs: 2, batchSize: 'auto', beta: 0.2 },
  seed: 7,
  suffix: 'bikes',
  metadata: { team: 'ml' },
  polling: { runningIntervalSeconds: 30 },
  evaluation: { evalSet: { path: 'eval.jsonl' }, graders: [{ type: 'exact_match' }], baseline: { model: 'gpt-4.1-mini' }, minLift: 0.01 },
  deployment: { name: 'bikes', type: 'GlobalStandard', requireApproval: true },
  copies: [{ destinationResourceId: '/subscriptions/s/resourceGroups/g/providers/Microsoft.CognitiveServices/accounts/b', region: 'swedencentral', deploy: { profile: 'sweden', name: 'bikes-se' } }],
  budget: { maxTrainingUsd: 10 },
  admission: { priority: 3 },
  notify: [{ url: 'https://hooks.example.com/ftpipe', events: ['failed'] }, { webhook: 'ops' }],
  lineage: { name: 'bikes' },
};

describe('modules the workflow bundle preloads', () => {
  const modules = preloadedModules();
  const ours = modules.filter((m) => !relative(ROOT, m.id).startsWith('node_modules'));

  it('are zod, OpenTelemetry\'s constants, long and ftpipe modules, importing no workflow API (whose modules stay per execution)', () => {
    assert.ok(ours.some((m) => m.id.endsWith('src/pipeline/input.ts')), 'the input schemas are preloaded');
    const shared = ['node_modules/zod/', 'node_modules/@opentelemetry/semantic-conventions/', 'node_modules/long/'];
    const foreign = modules.map((m) => relative(ROOT, m.id)).filter((id) => id.startsWith('node_modules') && !shared.some((prefix) => id.startsWith(prefix)));
    assert.deepEqual(foreign, []);
  });

  it('export no zod schema and no RegExp as a value (a function returning one is fine: the freeze does not walk into functions)', () => {
    const exported = ours.flatMap((m) => schemasIn(m.exports, relative(ROOT, m.id)));
    assert.deepEqual(exported, []);
    assert.deepEqual(schemasIn({ s: z.string(), nested: { pattern: /x/ } }, 'probe'), ['probe.s', 'probe.nested.pattern'], 'the check finds them');
  });

  // Loading the modules (above) evaluates them as preloading does; the SDK freezes them after that, before any workflow.
  it('still parse, give defaults and name fields after the SDK freezes their exports', () => {
    for (const module of modules) freezeAsTheSdkDoes({ exports: module.exports });
    assert.ok(Object.isFrozen(require.cache[require.resolve('../../src/pipeline/input')]?.exports), 'the freeze reached the module');

    const parsed = input.safeParsePipelineInput(VALID);
    assert.ok(parsed.success, JSON.stringify(parsed.error?.issues));
    assert.equal(parsed.data.polling.queuedIntervalSeconds, 300);
    assert.equal(parsed.data.copies[0]?.deploy?.type, 'GlobalStandard');
    assert.deepEqual(parsed.data.notify?.[1], { webhook: 'ops', format: 'json', events: ['awaiting_approval', 'succeeded', 'failed', 'cancelled'] });
    assert.equal(parsed.data.lineage?.continueFromLatest, true);

    const paths = (raw: unknown): string[] => {
      const result = input.safeParsePipelineInput(raw);
      return result.success ? [] : result.error.issues.map((issue) => issue.path.join('.'));
    };
    assert.deepEqual(paths({}), ['runName', 'profile', 'baseModel', 'training']);
    assert.deepEqual(paths({ ...VALID, training: { path: 'x', format: 'jsonl' } }), ['training']);
    assert.deepEqual(paths({ ...VALID, method: { type: 'magic' } }), ['method.type']);
    assert.deepEqual(paths({ ...VALID, notify: [{ url: 'https://hooks.slack.com/services/T/B/x' }] }), ['notify.0.url']);
    assert.deepEqual(paths({ ...VALID, training: { url: 'https://a.blob.core.windows.net/c/f?sig=abc' } }), ['training.url']);
    assert.deepEqual(paths({ ...VALID, method: { type: 'supervised' } }), ['hyperparameters.beta']);

    assert.ok(input.safeParseCopyRequest(VALID.copies[0]).success);
    assert.equal(input.safeParseCopyRequest({ region: 'x' }).success, false);
    assert.throws(() => input.parsePipelineInput({ ...VALID, seed: 1.5 }), /seed: /);
    assert.deepEqual(messages.parseControlInput({ by: 'alice' }).data, { by: 'alice' });
    assert.equal(messages.parseApprovalInput({ by: 5 }).success, false);
    const status = { stage: 'train', timeline: [], requests: [], errors: [], copies: [], files: [] };
    assert.ok(messages.parseContinuation({ fromRunId: 'r', status, preflight: { region: 'eastus', accountResourceId: 'a' }, lastEventId: null, startedAtSeconds: 1, copyRequests: VALID.copies }).success);
    assert.equal(messages.parseContinuation({ fromRunId: '' }).success, false);
    assert.equal(DEFAULT_LIMITS.runningJobs, 3);

    // long (the SDK's 64-bit integers: timestamps, durations) keeps its caches in closures, beyond the freeze.
    assert.ok(Object.isFrozen(Long), 'the freeze reached long');
    assert.equal(Long.fromNumber(1_764_547_200_123).multiply(1000).add(Long.fromInt(7)).toString(), '1764547200123007');
    assert.equal(Long.fromInt(5).toNumber(), 5);
  });
});
