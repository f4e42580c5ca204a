import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as workflows from '../../workflows';
import * as messages from '../../workflows/messages';

describe('workflows/messages: the one contract', () => {
  it('names the workflow types the worker registers (a worker registers each exported function by its name)', () => {
    assert.equal(workflows.fineTunePipeline.name, messages.PIPELINE_WORKFLOW_TYPE);
    assert.equal(workflows.checkWorker.name, messages.CHECK_WORKER_WORKFLOW_TYPE);
    assert.equal(workflows.planPipeline.name, messages.PLAN_WORKFLOW_TYPE);
    assert.equal(workflows.resourceAdmission.name, messages.ADMISSION_WORKFLOW_TYPE);
  });

  it('describes every signal, update and query a user sends, and the index exports them', () => {
    const exported: unknown[] = Object.values(messages);
    const names = exported.flatMap((value) => {
      const definition = value as { type?: unknown; name?: unknown };
      return typeof value === 'object' && value !== null && ['signal', 'update', 'query'].includes(String(definition.type)) ? [String(definition.name)] : [];
    });
    // admissionNotice is sent by the admission queue, not by users: it has no Web UI description.
    assert.deepEqual(new Set(names.filter((name) => name !== 'admissionNotice')), new Set(Object.keys(messages.DESCRIPTIONS)));
    assert.equal(workflows.pauseUpdate, messages.pauseUpdate);
    assert.equal(workflows.statusQuery, messages.statusQuery);
  });
});
