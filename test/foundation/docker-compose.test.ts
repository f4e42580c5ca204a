import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Ajv, { type AnySchema } from 'ajv';
import AjvDraft04 from 'ajv-draft-04';
import draft07 from 'ajv/dist/refs/json-schema-draft-07.json';
import { msToNumber } from '@temporalio/common/lib/time';
import { parse } from 'yaml';
import { SEARCH_ATTRIBUTES, SQL_VISIBILITY_KEYWORD_SLOTS, searchAttributeSpec, searchAttributeTypeName } from '../../src/temporal/search-attributes';
import { ROOT } from '../helpers/cli';

interface Mount {
  type: string;
  source: string;
  target: string;
  read_only?: boolean;
}
interface Service {
  image?: string;
  build?: string;
  entrypoint?: string[];
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: (string | Mount)[];
  secrets?: (string | { source: string; target?: string })[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  stop_grace_period?: string;
}
interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
  secrets?: Record<string, { file?: string }>;
}

/**
 * Compose's variable interpolation in the form both implementations accept (docker-compose 1.29.2's grammar, a subset
 * of Compose v2's): `$$`, `$NAME`, `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:?error}`, `${NAME?error}`.
 * Anything else after a `$` (such as `$(hostname -i)`) makes both refuse the whole file.
 */
function interpolate(value: string, env: Record<string, string>, where: string): string {
  return value.replace(/\$(?:(\$)|([_a-z][_a-z0-9]*)|\{([_a-z][_a-z0-9]*)(?:(:?[-?])([^}]*))?\}|)/gi, (match, escaped?: string, named?: string, braced?: string, sep?: string, rest?: string) => {
    if (escaped) return '$';
    const name = named ?? braced;
    if (!name) throw new Error(`${where}: invalid interpolation at "${value.slice(value.indexOf(match), value.indexOf(match) + 16)}" (Compose v1 and v2 refuse the file)`);
    const set = env[name];
    if (sep === ':-') return set ? set : (rest ?? '');
    if (sep === '-') return set ?? rest ?? '';
    if ((sep === ':?' && !set) || (sep === '?' && set === undefined)) throw new Error(`${where}: ${name} is required: ${rest}`);
    return set ?? '';
  });
}

function interpolateAll(node: unknown, env: Record<string, string>, where: string): unknown {
  if (typeof node === 'string') return interpolate(node, env, where);
  if (Array.isArray(node)) return node.map((item, i) => interpolateAll(item, env, `${where}[${i}]`));
  if (node && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, interpolateAll(value, env, `${where}.${key}`)]));
  }
  return node;
}

function schema(name: string): AnySchema {
  return JSON.parse(readFileSync(join(ROOT, 'test/fixtures/compose', name), 'utf8')) as AnySchema;
}

function errorsOf(validate: { errors?: unknown[] | null }): string {
  return JSON.stringify(validate.errors, null, 1);
}

// Compose v2's schema (the Compose Specification, draft-07) and docker-compose 1.29.2's, both as their projects publish
// them; `strict: false` because they use keywords and formats of their own that ajv need not know. docker-compose
// 1.29.2 validates with jsonschema's Draft4Validator whatever its schema's $schema says, so draft-04 here too.
// The Compose Specification names draft-07 by its https address, which ajv knows by the http one.
const validateV2 = new Ajv({ strict: false, allErrors: true })
  .addMetaSchema({ ...draft07, $id: 'https://json-schema.org/draft-07/schema' })
  .compile(schema('compose-spec.schema.json'));
// Its format checker knows ports, expose and subnet_ip_address (the regular expressions of its validation.py, ports
// simplified from its split_port); it checks no other format.
const validateV1 = new AjvDraft04({
  strict: false,
  allErrors: true,
  validateSchema: false,
  formats: {
    ports: /^(?:(?:\[[0-9a-fA-F:]+\]|[\d.]+):)?(?:\d+(?:-\d+)?:)?\d+(?:-\d+)?(?:\/[a-zA-Z]+)?$/,
    expose: /^\d+(-\d+)?(\/[a-zA-Z]+)?$/,
    subnet_ip_address: /^(?:[\d.]+|[0-9a-fA-F:]+)\/\d{1,3}$/,
    duration: true,
  },
}).compile(schema('docker-compose-1.29.2.schema.json'));

function load(yamlText: string, env: Record<string, string> = {}): ComposeFile {
  return interpolateAll(parse(yamlText), env, 'docker-compose.yml') as ComposeFile;
}

// No Docker engine runs on ftpipe's machines, so the file is loaded as Compose loads it (interpolation, then the schema
// of each implementation) and its wiring is checked; it is not run.
describe('docker-compose.yml', () => {
  const text = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
  const compose = load(text);
  const { services } = compose;

  it('is valid for Compose v2 (the Compose Specification schema) and for Compose v1 (docker-compose 1.29.2)', () => {
    assert.ok(validateV2(compose), errorsOf(validateV2));
    assert.ok(validateV1(compose), errorsOf(validateV1));
  });

  it('the loaders refuse what Compose refuses: $(...) in a value, a top-level name for v1, a v2-only bind option for v1', () => {
    assert.throws(() => load('services:\n  a:\n    image: x\n    healthcheck:\n      test: ["CMD-SHELL", "check $(hostname -i)"]\n'), /invalid interpolation/);
    assert.equal(load('services:\n  a:\n    image: "x:$${TAG}"\n').services.a!.image, 'x:${TAG}');
    assert.equal(load('services:\n  a:\n    image: "x:${TAG:-1}"\n', { TAG: '2' }).services.a!.image, 'x:2');
    const named = load('name: p\nservices:\n  a:\n    image: x\n');
    assert.ok(validateV2(named));
    assert.equal(validateV1(named), false);
    assert.equal(validateV1(load('services:\n  a:\n    image: x\n    ports: ["7233:7233/tcp:x"]\n')), false);
    const bind = load('services:\n  a:\n    image: x\n    volumes:\n      - {type: bind, source: ./f, target: /f, bind: {create_host_path: false}}\n');
    assert.ok(validateV2(bind));
    assert.equal(validateV1(bind), false);
  });

  it('every dependency, named volume and secret a service uses is declared', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const dependency of Object.keys(service.depends_on ?? {})) assert.ok(services[dependency], `${name} depends on the undeclared ${dependency}`);
      for (const volume of service.volumes ?? []) {
        const source = typeof volume === 'string' ? volume.split(':')[0]! : volume.source;
        if (!source.startsWith('.') && !source.startsWith('/')) assert.ok(compose.volumes && source in compose.volumes, `${name} mounts the undeclared volume ${source}`);
      }
      for (const secret of service.secrets ?? []) {
        const source = typeof secret === 'string' ? secret : secret.source;
        assert.ok(compose.secrets?.[source], `${name} uses the undeclared secret ${source}`);
      }
    }
  });

  it('bind-mounts only files the project has, read-only, with the long syntax', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const volume of service.volumes ?? []) {
        if (typeof volume === 'string') {
          assert.ok(!volume.startsWith('.') && !volume.startsWith('/'), `${name}: the short syntax ${volume} creates a missing source as a directory`);
          continue;
        }
        if (volume.type !== 'bind') continue;
        assert.ok(statSync(join(ROOT, volume.source)).isFile(), `${name} mounts ${volume.source}, which is not a file of the project`);
        assert.equal(volume.read_only, true, `${name} mounts ${volume.source} writable`);
      }
    }
  });

  it('gives the worker its configuration as a file secret, so a missing ftpipe.config.yaml fails `up`, and points FTPIPE_CONFIG at it', () => {
    const worker = services.worker!;
    const secret = worker.secrets?.map((s) => (typeof s === 'string' ? { source: s } : s)).find((s) => compose.secrets?.[s.source]?.file === './ftpipe.config.yaml');
    assert.ok(secret, 'the worker has no secret from ./ftpipe.config.yaml');
    assert.equal(worker.environment?.FTPIPE_CONFIG, `/run/secrets/${secret.target ?? secret.source}`);
    assert.ok(!existsSync(join(ROOT, 'ftpipe.config.yaml')), 'ftpipe.config.yaml is the user\'s file, not the project\'s');
  });

  it('has no healthcheck that depends on shell substitution, and the workers wait for the setup to succeed', () => {
    for (const [name, service] of Object.entries(services)) {
      if (service.healthcheck) assert.ok(!service.healthcheck.test.join(' ').includes('$('), `${name}'s healthcheck`);
    }
    assert.equal(services.worker!.depends_on?.['temporal-setup']?.condition, 'service_completed_successfully');
    assert.equal(services['temporal-setup']!.depends_on?.temporal?.condition, 'service_healthy');
  });

  it('the setup runs scripts/temporal-setup.sh with exactly ftpipe\'s search attributes, within PostgreSQL visibility\'s Keyword slots', () => {
    const setup = services['temporal-setup']!;
    const script = setup.volumes?.find((v): v is Mount => typeof v !== 'string' && v.source === './scripts/temporal-setup.sh');
    assert.ok(script, 'scripts/temporal-setup.sh is not mounted into temporal-setup');
    assert.ok(setup.entrypoint?.includes(script.target), 'temporal-setup does not run the mounted script');
    assert.deepEqual(setup.command, SEARCH_ATTRIBUTES.map(searchAttributeSpec));
    assert.equal(setup.environment?.TEMPORAL_NAMESPACE, services.worker!.environment?.TEMPORAL_NAMESPACE);
    // auto-setup adds Temporal's Custom*Field test attributes (one Keyword) unless told not to.
    const autoSetupKeywords = services.temporal!.environment?.SKIP_ADD_CUSTOM_SEARCH_ATTRIBUTES === 'true' ? 0 : 1;
    const keywords = SEARCH_ATTRIBUTES.filter((k) => searchAttributeTypeName(k) === 'Keyword').length;
    assert.ok(keywords + autoSetupKeywords <= SQL_VISIBILITY_KEYWORD_SLOTS, `${keywords} + ${autoSetupKeywords} Keyword attributes`);
  });

  it('gives the Web UI the codec server, which allows the UI\'s origin and has the workers\' payload keys from the host', () => {
    const ui = services['temporal-ui']!;
    const codec = services['codec-server']!;
    const port = /^http:\/\/localhost:(\d+)$/.exec(ui.environment?.TEMPORAL_CODEC_ENDPOINT ?? '')?.[1];
    assert.ok(port, `TEMPORAL_CODEC_ENDPOINT: ${ui.environment?.TEMPORAL_CODEC_ENDPOINT}`);
    assert.ok(codec.ports?.includes(`${port}:${port}`), JSON.stringify(codec.ports));
    const args = codec.command ?? [];
    assert.equal(args[0], 'codec-server');
    assert.equal(args[args.indexOf('--port') + 1], port);
    assert.equal(args[args.indexOf('--origin') + 1], `http://localhost:${/^(\d+):/.exec(ui.ports?.[0] ?? '')?.[1]}`, 'the UI\'s origin, as the browser sends it');
    const keyed = load(text, { FTPIPE_CODEC_KEYS: 'k1:from-the-host' }).services;
    assert.equal(keyed['codec-server']!.environment?.FTPIPE_CODEC_KEYS, 'k1:from-the-host');
    assert.equal(keyed.worker!.environment?.FTPIPE_CODEC_KEYS, 'k1:from-the-host', 'the same keys as the workers');
  });

  it('pins the images to the Temporal release ftpipe is tested with and passes credentials only from the host', () => {
    assert.match(services.temporal!.image!, /^temporalio\/auto-setup:1\.29\.1$/);
    assert.match(services['temporal-setup']!.image!, /^temporalio\/admin-tools:1\.29\.1$/);
    assert.match(services['temporal-ui']!.image!, /^temporalio\/ui:2\.42\.1$/);
    const worker = load(text, { AZURE_OPENAI_API_KEY: 'from-the-host' }).services.worker!;
    assert.equal(worker.environment?.AZURE_OPENAI_API_KEY, 'from-the-host');
    assert.equal(services.worker!.environment?.AZURE_OPENAI_API_KEY, '');
  });

  it('gives a stopped worker longer than its shutdown grace before Docker kills it', () => {
    const worker = services.worker!;
    const args = worker.command ?? [];
    const grace = args[args.indexOf('--shutdown-grace') + 1];
    assert.ok(args.includes('--shutdown-grace') && grace, 'the worker sets --shutdown-grace');
    // Compose's duration: 1h2m3s, 75s, 500ms.
    const composeMs = (value: string): number => {
      let total = 0;
      const rest = value.replace(/(\d+(?:\.\d+)?)(ms|us|h|m|s)/g, (_m, n: string, unit: string) => {
        total += Number(n) * { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001 }[unit as 'h' | 'm' | 's' | 'ms' | 'us'];
        return '';
      });
      assert.equal(rest, '', `not a Compose duration: ${value}`);
      return total;
    };
    const stopMs = composeMs(worker.stop_grace_period ?? '10s');
    // As for systemd's TimeoutStopSec (worker-systemd.test.ts): the SDK cancels the activities at the end of the grace.
    assert.ok(stopMs >= msToNumber(grace as Parameters<typeof msToNumber>[0]) + 15_000, `stop_grace_period ${worker.stop_grace_period} against --shutdown-grace ${grace}`);
  });

  it('has a Dockerfile whose image runs the compiled worker with the prebuilt workflow bundle', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    assert.match(dockerfile, /^FROM node:20/m);
    assert.match(dockerfile, /RUN npm run build/);
    assert.match(dockerfile, /ENTRYPOINT \["\/usr\/bin\/tini", "--", "node", "bin\/ftpipe\.js"\]/, 'tini is the first process (test/foundation/worker-container.test.ts)');
    assert.match(dockerfile, /apt-get install -y --no-install-recommends tini/);
    assert.match(dockerfile, /CMD \["worker"\]/);
  });
});
