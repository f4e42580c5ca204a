/**
 * Validates recorded HTTP exchanges (from `emu.control.tapExchanges`) against the vendored Azure specs of their
 * family (specs/*.json, each naming its source path and commit) plus the documented overlays (specs/azure-overlays.json,
 * each naming its source). Strict: a property a schema does not define, an enum value outside it, an undocumented
 * query parameter or api-version is a violation. Usable from any test: `validateExchange(exchange)` returns the
 * violations as readable strings.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import type { Exchange } from '../../src/emulator';
import { DATED_API_VERSIONS } from '../../src/emulator';

type Json = Record<string, unknown>;
type Family = 'dated' | 'v1' | 'arm';
/** A vendored spec: a family's authoring spec, or the dated family's inference spec (chat completions on a deployment). */
type SpecId = Family | 'inference';

const SPEC_DIR = join(__dirname, 'specs');
const load = (file: string): Json => JSON.parse(readFileSync(join(SPEC_DIR, file), 'utf8')) as Json;

/** Emulator route name -> the spec operation it implements, per vendored spec. */
const OPERATIONS: Record<SpecId, Record<string, string>> = {
  dated: {
    'files.upload': 'POST /files',
    'files.import': 'POST /files/import',
    'files.list': 'GET /files',
    'files.get': 'GET /files/{file-id}',
    'files.delete': 'DELETE /files/{file-id}',
    'files.content': 'GET /files/{file-id}/content',
    'jobs.create': 'POST /fine_tuning/jobs',
    'jobs.list': 'GET /fine_tuning/jobs',
    'jobs.get': 'GET /fine_tuning/jobs/{fine-tuning-job-id}',
    'jobs.delete': 'DELETE /fine_tuning/jobs/{fine-tuning-job-id}',
    'jobs.cancel': 'POST /fine_tuning/jobs/{fine-tuning-job-id}/cancel',
    'jobs.checkpoints': 'GET /fine_tuning/jobs/{fine-tuning-job-id}/checkpoints',
    'jobs.events': 'GET /fine_tuning/jobs/{fine-tuning-job-id}/events',
    'jobs.pause': 'POST /fine_tuning/jobs/{fine-tuning-job-id}/pause',
    'jobs.resume': 'POST /fine_tuning/jobs/{fine-tuning-job-id}/resume',
  },
  v1: {
    'files.upload': 'POST /files',
    'files.list': 'GET /files',
    'files.get': 'GET /files/{file_id}',
    'files.delete': 'DELETE /files/{file_id}',
    'files.content': 'GET /files/{file_id}/content',
    'jobs.create': 'POST /fine_tuning/jobs',
    'jobs.list': 'GET /fine_tuning/jobs',
    'jobs.get': 'GET /fine_tuning/jobs/{fine_tuning_job_id}',
    'jobs.cancel': 'POST /fine_tuning/jobs/{fine_tuning_job_id}/cancel',
    'jobs.checkpoints': 'GET /fine_tuning/jobs/{fine_tuning_job_id}/checkpoints',
    'jobs.events': 'GET /fine_tuning/jobs/{fine_tuning_job_id}/events',
    'jobs.pause': 'POST /fine_tuning/jobs/{fine_tuning_job_id}/pause',
    'jobs.resume': 'POST /fine_tuning/jobs/{fine_tuning_job_id}/resume',
    'checkpoints.copy': 'POST /fine_tuning/jobs/{fine_tuning_job_id}/checkpoints/{fine_tuning_checkpoint_id}/copy',
    'checkpoints.copyStatus': 'GET /fine_tuning/jobs/{fine_tuning_job_id}/checkpoints/{fine_tuning_checkpoint_id}/copy',
  },
  arm: {
    'arm.deployments.put': 'PUT deployments/{deploymentName}',
    'arm.deployments.get': 'GET deployments/{deploymentName}',
    'arm.deployments.list': 'GET deployments',
    'arm.deployments.patch': 'PATCH deployments/{deploymentName}',
    'arm.deployments.delete': 'DELETE deployments/{deploymentName}',
    'arm.operationResults.get': 'GET locations/{location}/operationResults/{operationId}',
    'arm.models.list': 'GET locations/{location}/models',
    'arm.usages.list': 'GET locations/{location}/usages',
  },
  inference: {
    'chat.completions': 'POST /deployments/{deployment-id}/chat/completions',
  },
};

/** The dated family's inference routes, described by the inference spec rather than the authoring one. */
const INFERENCE_ROUTES = new Set(Object.keys(OPERATIONS.inference));

const SPEC_FILES: Record<SpecId, string> = {
  dated: 'dated-2025-04-01-preview.json',
  v1: 'v1-preview.json',
  arm: 'arm-2025-09-01.json',
  inference: 'inference-2025-04-01-preview.json',
};

interface Spec {
  operations: Record<string, { request?: string; query?: string[]; responses: Record<string, string | null> } | string>;
}

const SPEC_IDS = Object.keys(SPEC_FILES) as SpecId[];
const specs = Object.fromEntries(SPEC_IDS.map((id) => [id, load(SPEC_FILES[id]) as unknown as Spec])) as Record<SpecId, Spec>;

/** OpenAPI/Swagger schemas -> JSON Schema 2020-12: refs into $defs, `nullable`, and no undeclared properties. */
function toJsonSchema(defs: Record<string, Json>): Record<string, Json> {
  const allOfBases = new Set<string>();
  const collect = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(collect);
    if (typeof node !== 'object' || node === null) return;
    const n = node as Json;
    if (Array.isArray(n.allOf)) for (const part of n.allOf as Json[]) if (typeof part.$ref === 'string') allOfBases.add(part.$ref.split('/').pop()!);
    Object.values(n).forEach(collect);
  };
  collect(defs);
  // `allOfPart`: an inline member of an allOf, whose properties its parent closes (a closed part would refuse its siblings').
  const convert = (node: unknown, name?: string, allOfPart = false): unknown => {
    if (Array.isArray(node)) return node.map((n) => convert(n));
    if (typeof node !== 'object' || node === null) return node;
    const n = node as Json;
    const out: Json = {};
    for (const [k, v] of Object.entries(n)) {
      if (k.startsWith('x-') || ['readOnly', 'deprecated', 'discriminator', 'default', 'nullable', 'example'].includes(k)) continue;
      if (k === '$ref' && typeof v === 'string') out.$ref = `#/$defs/${v.split('/').pop()!}`;
      else if (k === 'type' && v === 'file') continue;
      else if (k === 'properties') out.properties = Object.fromEntries(Object.entries(v as Json).map(([p, s]) => [p, convert(s)]));
      else if (k === 'allOf') out.allOf = (v as unknown[]).map((part) => convert(part, undefined, true));
      else out[k] = convert(v);
    }
    const open = out.additionalProperties !== undefined || allOfPart || (name !== undefined && allOfBases.has(name));
    if ((out.properties || out.allOf) && !open) out.unevaluatedProperties = false;
    if (n.nullable === true) {
      if (typeof out.type === 'string') out.type = [out.type, 'null'];
      else return { anyOf: [out, { type: 'null' }] };
      if (Array.isArray(out.enum)) out.enum = [...(out.enum as unknown[]), null];
    }
    return out;
  };
  return Object.fromEntries(Object.entries(defs).map(([name, schema]) => [name, convert(schema, name) as Json]));
}

function applyOverlays(family: SpecId, defs: Record<string, Json>): void {
  const overlays = (load('azure-overlays.json') as Record<string, Json[]>)[family] ?? [];
  for (const o of overlays) {
    const schema = defs[o.schema as string]!;
    const props = (schema.properties ??= {}) as Record<string, Json>;
    if (o.addProperty) props[o.addProperty as string] = o.value as Json;
    if (o.methodUnion) {
      (defs.FineTuningJobCreation!.properties as Record<string, Json>).method = { anyOf: (o.methodUnion as string[]).map((n) => ({ $ref: `#/definitions/${n}` })) };
    }
    if (o.widenEnum) defs.ErrorCode!.enum = [...(defs.ErrorCode!.enum as string[]), ...(o.widenEnum as string[])];
    if (o.replaceEnum) props[o.property as string]!.enum = o.replaceEnum;
    if (o.enum) props[o.property as string]!.enum = o.enum;
    if (o.dropRequired) schema.required = (schema.required as string[]).filter((r) => !(o.dropRequired as string[]).includes(r));
    if (o.nullable) for (const p of o.nullable as string[]) props[p]!.nullable = true;
  }
}

const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
for (const id of SPEC_IDS) {
  const raw = specs[id] as unknown as Json;
  const defs = structuredClone((raw.components ? (raw.components as Json).schemas : raw.definitions) as Record<string, Json>);
  applyOverlays(id, defs);
  ajv.addSchema({ $id: id, $defs: toJsonSchema(defs) });
}
const compiled = new Map<string, ValidateFunction>();
function validator(family: SpecId, schema: string): ValidateFunction {
  const key = `${family}#${schema}`;
  let v = compiled.get(key);
  if (!v) {
    v = ajv.compile({ $ref: `${family}#/$defs/${schema}` });
    compiled.set(key, v);
  }
  return v;
}

function check(family: SpecId, schema: string, value: unknown, where: string): string[] {
  const v = validator(family, schema);
  if (v(value)) return [];
  return (v.errors ?? []).map((e) => `${where} ${schema}${e.instancePath || ''}: ${e.message ?? 'invalid'}${e.params && 'unevaluatedProperty' in e.params ? ` '${String(e.params.unevaluatedProperty)}'` : ''}${e.params && 'allowedValues' in e.params ? ` (${JSON.stringify(e.params.allowedValues)})` : ''}`);
}

/** The form fields of a multipart body (names and text values), enough to check `purpose` and friends. */
function formFields(body: Buffer): Map<string, string> {
  const fields = new Map<string, string>();
  const text = body.toString('latin1');
  for (const m of text.matchAll(/Content-Disposition: form-data; name="([^"]+)"(; filename="[^"]*")?\r\n(?:[^\r\n]+\r\n)*\r\n([\s\S]*?)\r\n--/gi)) {
    fields.set(m[1]!, m[2] ? '(file)' : m[3]!);
  }
  return fields;
}

const LIST_QUERY: Record<string, string[]> = { 'GET /files': ['purpose', 'limit', 'after', 'order'] };

/** The violations of one exchange against its family's spec (empty when it conforms). */
export function validateExchange(e: Exchange): string[] {
  const family: Family = e.plane === 'arm' ? 'arm' : (e.family ?? 'dated');
  const where = `${e.method} ${e.path} (${e.route}, ${e.status})`;
  if (e.route === 'unmatched') return e.status === 404 ? [] : [`${where}: unmatched route answered ${e.status}`];
  const problems: string[] = [];
  // Headers Azure sends on every answer (recordings).
  if (e.plane === 'data' && !e.responseHeaders['apim-request-id']) problems.push(`${where}: no apim-request-id header`);
  if (e.plane === 'arm' && !e.responseHeaders['x-ms-request-id']) problems.push(`${where}: no x-ms-request-id header`);
  const id: SpecId = family === 'dated' && INFERENCE_ROUTES.has(e.route) ? 'inference' : family;
  const opKey = OPERATIONS[id][e.route];
  if (!opKey) return [...problems, `${where}: no ${family} spec operation for route ${e.route}`];
  const spec = specs[id];
  const op = spec.operations[opKey];
  if (!op || typeof op === 'string') return [...problems, `${where}: ${opKey} is not in the vendored ${id} spec`];

  // Query: api-version per family, and only documented parameters.
  const apiVersion = e.query['api-version'];
  if (family === 'dated' && e.status < 400 && (apiVersion === undefined || !DATED_API_VERSIONS.has(apiVersion))) problems.push(`${where}: dated api-version ${String(apiVersion)} is not one Azure serves`);
  if (family === 'v1' && apiVersion !== undefined && !['v1', 'preview'].includes(apiVersion)) problems.push(`${where}: v1 api-version ${apiVersion} is outside AzureAIFoundryModelsApiVersion`);
  const allowedQuery = new Set(['api-version', ...(op.query ?? []), ...(LIST_QUERY[opKey] ?? []), ...(family === 'arm' ? ['operationResultResponseType'] : [])]);
  for (const q of Object.keys(e.query)) if (!allowedQuery.has(q)) problems.push(`${where}: query parameter '${q}' is not in the spec`);

  // Request body.
  if (op.request === 'multipart' || op.request?.startsWith('multipart:')) {
    const fields = formFields(e.requestBody);
    const purposes = family === 'dated' ? ['fine-tune', 'fine-tune-results', 'assistants', 'assistants_output', 'batch', 'batch_output', 'evals', 'evals_output'] : ['assistants', 'batch', 'fine-tune', 'evals'];
    const known = family === 'dated' ? ['purpose', 'file', 'expires_after.anchor', 'expires_after.seconds', 'expires_after[anchor]', 'expires_after[seconds]'] : ['purpose', 'file', 'expires_after[anchor]', 'expires_after[seconds]'];
    if (!fields.has('file')) problems.push(`${where}: multipart without a file`);
    if (!purposes.includes(fields.get('purpose') ?? '')) problems.push(`${where}: purpose '${String(fields.get('purpose'))}' is outside the ${family} enum`);
    for (const name of fields.keys()) if (!known.includes(name)) problems.push(`${where}: form field '${name}' is not in the spec`);
  } else if (op.request) {
    let body: unknown;
    try {
      body = JSON.parse(e.requestBody.toString('utf8'));
    } catch {
      problems.push(`${where}: request body is not JSON`);
    }
    if (body !== undefined) problems.push(...check(id, op.request, body, `${where} request`));
  }

  // Response body by status.
  if (e.status >= 400) {
    if (e.responseBody !== undefined) problems.push(...check(id, spec.operations.default as string, e.responseBody, `${where} response`));
    return problems;
  }
  const expected = op.responses[String(e.status)];
  if (expected === undefined) return [...problems, `${where}: status ${e.status} is not a documented response of ${opKey} in ${id}`];
  if (expected === null || expected === 'binary') {
    if (expected === null && e.responseBody !== undefined) problems.push(`${where}: status ${e.status} carries a JSON body the spec does not define`);
    return problems;
  }
  if (e.responseBody === undefined) return [...problems, `${where}: no JSON body, expected ${expected}`];
  return [...problems, ...check(id, expected, e.responseBody, `${where} response`)];
}

export function validateExchanges(exchanges: Exchange[]): string[] {
  return exchanges.flatMap(validateExchange);
}
