import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { SEARCH_ATTRIBUTES } from '../../src/temporal/search-attributes';
import { ROOT } from '../helpers/cli';

interface Service {
  image?: string;
  build?: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
}

// No Docker engine runs on ftpipe's machines, so the compose file is checked for shape, not run.
describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service>; volumes: Record<string, unknown> };
  const { services } = compose;

  it('has PostgreSQL, Temporal (auto-setup), its UI, a search-attribute setup and ftpipe workers', () => {
    assert.deepEqual(Object.keys(services).sort(), ['postgresql', 'temporal', 'temporal-setup', 'temporal-ui', 'worker']);
    assert.match(services.postgresql!.image!, /^postgres:\d+/);
    assert.match(services.temporal!.image!, /^temporalio\/auto-setup:1\.29\.\d+$/);
    assert.match(services['temporal-ui']!.image!, /^temporalio\/ui:2\.\d+\.\d+$/);
  });

  it('wires Temporal to PostgreSQL with persistent storage and publishes the gRPC and UI ports', () => {
    const temporal = services.temporal!;
    assert.equal(temporal.environment?.DB, 'postgres12');
    assert.equal(temporal.environment?.POSTGRES_SEEDS, 'postgresql');
    assert.equal(temporal.depends_on?.postgresql?.condition, 'service_healthy');
    assert.ok(temporal.ports?.includes('7233:7233'));
    assert.ok(services['temporal-ui']!.ports?.includes('8080:8080'));
    assert.equal(services['temporal-ui']!.environment?.TEMPORAL_ADDRESS, 'temporal:7233');
    assert.ok(services.postgresql!.volumes?.some((v) => v.startsWith('postgresql-data:')));
    assert.ok('postgresql-data' in compose.volumes);
  });

  it('registers exactly ftpipe\'s search attributes', () => {
    const script = services['temporal-setup']!.command!.join(' ');
    const names = /for name in ([^;]+);/.exec(script)?.[1]?.trim().split(/\s+/);
    assert.deepEqual(names?.sort(), SEARCH_ATTRIBUTES.map((k) => k.name).sort());
  });

  it('builds the worker from the project and configures it through the environment only', () => {
    const worker = services.worker!;
    assert.equal(worker.build, '.');
    assert.deepEqual(worker.command?.slice(0, 1), ['worker']);
    assert.equal(worker.environment?.TEMPORAL_ADDRESS, 'temporal:7233');
    assert.equal(worker.environment?.TEMPORAL_NAMESPACE, 'default');
    assert.ok(worker.environment?.FTPIPE_CONFIG);
    assert.equal(worker.environment?.AZURE_OPENAI_API_KEY, '${AZURE_OPENAI_API_KEY:-}', 'the API key comes from the host, not the file');
    assert.equal(worker.depends_on?.['temporal-setup']?.condition, 'service_completed_successfully');
  });

  it('has a Dockerfile whose image runs the compiled worker with the prebuilt workflow bundle', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    assert.match(dockerfile, /^FROM node:20/m);
    assert.match(dockerfile, /RUN npm run build/);
    assert.match(dockerfile, /ENTRYPOINT \["node", "bin\/ftpipe\.js"\]/);
    assert.match(dockerfile, /CMD \["worker"\]/);
  });
});
