/** src/catalog/prices.ts: every price names its source and date, and says whether the figure was checked in a stored copy of it. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HOSTING_PRICES, priceSourceText, TRAINING_PRICES, type PriceSource } from '../../src/catalog/prices';

const allSources = (): [string, PriceSource][] => [
  ...Object.entries(TRAINING_PRICES).flatMap(([model, methods]) => Object.entries(methods).map(([method, p]): [string, PriceSource] => [`${model} ${method}`, p.source])),
  ...Object.entries(HOSTING_PRICES).map(([type, p]): [string, PriceSource] => [`hosting ${type}`, p.source]),
];

describe('price sources', () => {
  it('carry a URL, an ISO date, a verified flag and what they were checked against', () => {
    for (const [what, source] of allSources()) {
      assert.match(source.url, /^https:\/\//, what);
      assert.match(source.date, /^\d{4}-\d{2}-\d{2}$/, what);
      assert.equal(typeof source.verified, 'boolean', what);
      assert.ok(source.checked.length > 20, what);
    }
  });

  it('mark as verified only the figures a stored source states: no hosting fee on the Developer tier, $100 an hour of RFT', () => {
    const verified = allSources().filter(([, s]) => s.verified).map(([what]) => what).sort();
    assert.deepEqual(verified, ['hosting DeveloperTier', 'o4-mini reinforcement']);
    assert.equal(HOSTING_PRICES.DeveloperTier.usdPerHour, 0);
    assert.equal(TRAINING_PRICES['o4-mini']!.reinforcement!.usd.Global, 100);
  });

  it('say "unverified" wherever a source is shown (report, dry run)', () => {
    assert.match(priceSourceText(HOSTING_PRICES.Standard.source), /, 2026-02-11 \(unverified: /);
    assert.doesNotMatch(priceSourceText(HOSTING_PRICES.DeveloperTier.source), /unverified/);
  });
});
