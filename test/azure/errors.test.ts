import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { APIError } from 'openai';
import { DEFAULT_LIMITS } from '../../src/admission/limits';
import { azureFailure } from '../../src/azure/errors';

/** A data-plane refusal over the account's job quota, as the emulator and Azure answer it (HTTP 400 `quotaExceeded`). */
function quotaRefusal(headers: Record<string, string> = {}): APIError {
  const body = { code: 'quotaExceeded', message: 'The resource has 3 fine-tuning jobs running or queued.' };
  return APIError.generate(400, { error: body }, undefined, new Headers(headers));
}

describe('an Azure quota refusal', () => {
  it('is retried, after Retry-After when Azure sends one, else after the profile\'s quotaRetrySeconds (default 60 s)', () => {
    const byDefault = azureFailure(quotaRefusal(), 'create the fine-tuning job');
    assert.deepEqual([byDefault.type, byDefault.nonRetryable, byDefault.nextRetryDelay], ['AzureQuotaExceeded', false, DEFAULT_LIMITS.quotaRetrySeconds * 1000]);
    assert.equal(DEFAULT_LIMITS.quotaRetrySeconds, 60);
    assert.equal(azureFailure(quotaRefusal(), 'create the fine-tuning job', { quotaRetrySeconds: 2.5 }).nextRetryDelay, 2500);
    assert.equal(azureFailure(quotaRefusal({ 'retry-after': '7' }), 'create the fine-tuning job', { quotaRetrySeconds: 2.5 }).nextRetryDelay, 7000);
  });
});
