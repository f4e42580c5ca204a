/** What the report and the run summary say a run costs: the cost ledger (src/pipeline/cost.ts) and each live deployment's fee. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildRunReport, statusFromVisibility } from '../../src/report/build';
import { renderReport } from '../../src/report/html';
import { hourlyFee, liveSummary } from '../../src/report/notes';
import type { CopyStatus, DeploymentInfo, PipelineStatus } from '../../src/pipeline/types';

const deployment = (name: string, sku: string, profile = 'prod'): DeploymentInfo => ({ profile, name, model: 'm', sku, capacity: 1, provisioningState: 'Succeeded' });

function deployedStatus(deployments: DeploymentInfo[], copies: CopyStatus[] = []): PipelineStatus {
  const status = statusFromVisibility({ runName: 'r', profile: 'prod', baseModel: 'gpt-4.1-mini', stage: 'cleanup', startedAt: '2026-12-01T10:00:00.000Z' });
  return {
    ...status, deployments, copies,
    timeline: [{ stage: 'preflight', at: '2026-12-01T10:00:00.000Z' }, { stage: 'deploy', at: '2026-12-01T11:00:00.000Z' }, { stage: 'cleanup', at: '2026-12-01T11:30:00.000Z' }],
  };
}

describe('what the report and the summary say a run costs', () => {
  it('prices each live deployment by its SKU, the kept versions apart from what this run deployed', () => {
    const copy: CopyStatus = { destinationResourceId: '/subscriptions/s/resourceGroups/g/providers/Microsoft.CognitiveServices/accounts/b', region: 'eastus2', checkpoint: 'c', status: 'Completed', deployment: deployment('far', 'GlobalStandard', 'east'), error: null };
    const status = deployedStatus([deployment('a-v3', 'GlobalStandard'), deployment('a-v2', 'GlobalStandard'), deployment('far', 'GlobalStandard', 'east')], [copy]);
    const report = buildRunReport({ status, execution: 'RUNNING', generatedAt: '2026-12-01T13:00:00.000Z' });
    const cost = report.cost!;
    assert.deepEqual(cost.hosting.map((h) => [h.name, h.usdPerHour, h.since]), [['a-v3', 1.7, '2026-12-01T11:00:00.000Z'], ['a-v2', 1.7, null], ['far', 1.7, '2026-12-01T11:00:00.000Z']]);
    assert.equal(cost.hosting[0]!.usd, 3.4, '2 hours at $1.70');
    assert.equal(cost.hourlyUsdWhileLive, 5.1);
    const html = renderReport(report);
    assert.match(html, /What stays live costs <strong id="hourly-total">\$5\.10\/hour<\/strong> \(3 deployments\) until deleted\./);
    assert.equal((html.match(/<td><strong>\$1\.70\/hour<\/strong><\/td>/g) ?? []).length, 3, 'each live deployment\'s fee in the deployments table');
  });

  it('says why there is no hourly figure (PTU-hours, an unknown SKU) and that the Developer tier has no fee', () => {
    assert.deepEqual(hourlyFee({ sku: 'DeveloperTier' }).usdPerHour, 0);
    assert.match(hourlyFee({ sku: 'ProvisionedManaged' }).note, /PTU-hours/);
    assert.match(hourlyFee({ sku: 'DataZoneStandard' }).note, /no price for SKU DataZoneStandard/);
    const html = renderReport(buildRunReport({ status: deployedStatus([deployment('p', 'ProvisionedManaged')]), execution: 'RUNNING', generatedAt: '2026-12-01T13:00:00.000Z' }));
    assert.match(html, /billed partly at rates not in ftpipe's catalogue/);
  });

  it('the run summary names each live deployment\'s fee and the total', () => {
    assert.equal(
      liveSummary([deployment('a-v2', 'GlobalStandard'), deployment('dev', 'DeveloperTier')], ['a-v2', 'dev']),
      'Live after this run: 2 fine-tuned deployments: a-v2 (GlobalStandard, profile prod, new in this run, $1.70/hour), dev (DeveloperTier, profile prod, new in this run, no hosting fee); 1 of them is billed by the hour until deleted, $1.70/hour in all (prices from Azure\'s fine-tuning cost guide: check Azure OpenAI pricing for your region).',
    );
    assert.match(liveSummary([deployment('p', 'ProvisionedManaged')], []), /p \(ProvisionedManaged, profile prod, kept from before by keepVersions, billed in PTU-hours at your agreement's rate, no hosting fee\); it is billed by the hour until deleted, at rates not all in ftpipe's catalogue/);
  });
});
