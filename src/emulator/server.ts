/**
 * HTTP plumbing shared by the data plane (plain http, per-account path prefix `/<account>/openai/...`, plus the
 * `/admin/...` control API) and ARM (https, `/subscriptions/...`): routing, auth, faults, the request log and
 * writing replies. Handlers return a `Reply` or throw an `ApiError`; they never touch the response object.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import FindMyWay from 'find-my-way';
import type { HTTPMethod } from 'find-my-way';
import type { EmulatedClock } from './clock';
import { NO_FAULT, type FaultInjector } from './faults';
import { ARM_API_VERSIONS, DATED_API_VERSIONS, regionDisplayName, V1_API_VERSIONS } from './service';
import { ApiError, armAccountNotFound, armErrorBody, dataPlaneErrorBody, INTERNAL_FAILURE, resourceNotFound, unauthorizedArm, unauthorizedDataPlane } from './errors';
import { newRequestId, type Family } from './shapes';
import type { Account, EmulatorState } from './state';

export type Plane = 'data' | 'arm' | 'admin';

export interface RequestContext {
  readonly req: IncomingMessage;
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly params: Record<string, string | undefined>;
  /** Data-plane URL family; null on ARM and admin routes. */
  readonly family: Family | null;
  /** The account addressed by the URL (data plane: path prefix; ARM: the account segment), if any. */
  readonly account: Account | undefined;
  /** Emulated time when the request arrived. */
  readonly now: number;
  body(): Promise<Buffer>;
  /** The request body as a stream (multipart uploads). */
  stream(): Readable;
  /** The JSON body as an object; a missing or malformed body is a 400 in the plane's shape. */
  json(): Promise<Record<string, unknown>>;
}

export interface Reply {
  status: number;
  json?: unknown;
  raw?: string | Buffer;
  contentType?: string;
  headers?: Record<string, string>;
  /** An answer of Azure's gateway (see `ApiError.gateway`). */
  gateway?: boolean;
}

export type Handler = (ctx: RequestContext) => Reply | Promise<Reply>;

interface RouteStore {
  name: string;
  plane: Plane;
  family: Family | null;
  handler: Handler;
}

export interface RequestLogEntry {
  seq: number;
  /** Real time, ISO 8601. */
  time: string;
  /** Emulated time, ISO 8601. */
  emulatedTime: string;
  method: string;
  path: string;
  route: string;
  /** 0 when the connection was dropped without an answer. */
  status: number;
  account: string | null;
  family: Family | null;
  /** Set when an injected fault shaped the answer. */
  fault?: string;
}

/** One answered HTTP exchange, for conformance tests that validate every request and response against the specs. */
export interface Exchange {
  plane: 'data' | 'arm';
  family: Family | null;
  route: string;
  method: string;
  path: string;
  query: Record<string, string>;
  requestHeaders: Record<string, string | string[] | undefined>;
  /** The raw request body (empty when none). */
  requestBody: Buffer;
  status: number;
  responseHeaders: Record<string, string | number>;
  /** Parsed JSON response body, or undefined for an empty or non-JSON answer. */
  responseBody: unknown;
}

export type ExchangeListener = (exchange: Exchange) => void;

const MAX_LOG_ENTRIES = 50_000;
/**
 * Routes whose JSON Azure sends without a charset (recorded): the model service's chat answers and refusals
 * (net-aoai DeployAndChatWithModel, go-azopenai InvalidModel) and the file list (net-aoai CanListFiles).
 */
const PLAIN_JSON_ROUTES: ReadonlySet<string> = new Set(['chat.completions', 'files.list']);

export interface DispatcherDeps {
  state: EmulatorState;
  clock: EmulatedClock;
  faults: FaultInjector;
  acceptedTokens: ReadonlySet<string>;
  /** False only in lenient (rehearsal) mode: any api-version is then served. */
  strict: boolean;
}

export class Dispatcher {
  private readonly dataRouter = FindMyWay({ ignoreTrailingSlash: true });
  private readonly armRouter = FindMyWay({ ignoreTrailingSlash: true, caseSensitive: false });
  private readonly log: RequestLogEntry[] = [];
  private seq = 0;
  private readonly exchangeListeners = new Set<ExchangeListener>();

  constructor(private readonly deps: DispatcherDeps) {}

  /** Registers a data-plane route under `/<account>/openai` (dated) and/or `/<account>/openai/v1` (v1). */
  data(name: string, method: HTTPMethod, subpath: string, families: readonly Family[], handler: Handler): void {
    for (const family of families) {
      const prefix = family === 'v1' ? '/:account/openai/v1' : '/:account/openai';
      this.dataRouter.on(method, prefix + subpath, noop, { name, plane: 'data', family, handler } satisfies RouteStore);
    }
  }

  arm(name: string, method: HTTPMethod, path: string, handler: Handler): void {
    this.armRouter.on(method, path, noop, { name, plane: 'arm', family: null, handler } satisfies RouteStore);
  }

  admin(name: string, method: HTTPMethod, subpath: string, handler: Handler): void {
    this.dataRouter.on(method, `/admin${subpath}`, noop, { name, plane: 'admin', family: null, handler } satisfies RouteStore);
  }

  requestLog(): RequestLogEntry[] {
    return this.log.slice();
  }

  clearRequestLog(): void {
    this.log.length = 0;
  }

  /** Calls `listener` with every answered data-plane and ARM exchange; returns the unsubscribe function. */
  tapExchanges(listener: ExchangeListener): () => void {
    this.exchangeListeners.add(listener);
    return () => this.exchangeListeners.delete(listener);
  }

  handleData = (req: IncomingMessage, res: ServerResponse): void => {
    this.handle(this.dataRouter, 'data', req, res).catch((err: unknown) => abort(res, err));
  };

  handleArm = (req: IncomingMessage, res: ServerResponse): void => {
    this.handle(this.armRouter, 'arm', req, res).catch((err: unknown) => abort(res, err));
  };

  private async handle(router: typeof this.dataRouter, server: 'data' | 'arm', req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const query = new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
    const method = req.method ?? 'GET';
    const now = this.deps.clock.now();
    const match = router.find(method as HTTPMethod, path);
    const store = match?.store as RouteStore | undefined;
    const plane: Plane = store?.plane ?? server;
    const entry: RequestLogEntry = {
      seq: ++this.seq,
      time: new Date().toISOString(),
      emulatedTime: new Date(now).toISOString(),
      method,
      path,
      route: store?.name ?? 'unmatched',
      status: 0,
      account: null,
      family: store?.family ?? null,
    };
    this.record(entry);
    // A tapped exchange needs its request body even when the handler never reads it: read it up front.
    const tapped = this.exchangeListeners.size > 0 && store !== undefined && store.plane !== 'admin';
    const prefetched = tapped ? await readBody(req) : undefined;

    let account: Account | undefined;
    let reply: Reply;
    try {
      if (!match || !store) throw server === 'arm' ? armNotFound(path) : resourceNotFound();
      const accountName = store.plane === 'data' ? match.params.account : store.plane === 'arm' ? match.params.accountName : undefined;
      if (accountName !== undefined) {
        account = this.deps.state.accounts.get(accountName.toLowerCase());
        if (!account) {
          throw store.plane === 'arm'
            ? armAccountNotFound(this.deps.state.accounts.values(), match.params.subscriptionId ?? '', match.params.resourceGroupName ?? '', accountName)
            : resourceNotFound();
        }
        entry.account = account.name;
      }
      if (store.plane === 'data') this.checkDataPlane(req, query, store.family, account);
      if (store.plane === 'arm') this.checkArm(req, query);

      // The control API is never faulted, so that faults can always be cleared.
      const decision = store.plane === 'admin' ? NO_FAULT : this.deps.faults.decide(store.name, method, account?.name, store.plane);
      if (decision.latencyMs > 0) await sleep(decision.latencyMs);
      const outcome = decision.outcome;
      if (outcome.kind === 'drop') {
        entry.fault = 'drop';
        req.socket.destroy();
        return;
      }
      if (outcome.kind === 'error') {
        entry.fault = `error ${outcome.error.status}`;
        throw outcome.error;
      }
      const ctx = makeContext(req, method, path, query, match.params, store, account, now, plane, prefetched);
      reply = await store.handler(ctx);
      if (outcome.kind === 'lostConnection') {
        entry.fault = 'lostConnection';
        req.socket.destroy();
        return;
      }
      if (outcome.kind === 'lostResponse') {
        entry.fault = `lostResponse ${outcome.error.status}`;
        throw outcome.error;
      }
    } catch (err) {
      reply = errorReply(err, plane);
    }
    entry.status = reply.status;
    const headers = this.write(res, reply, server, plane === 'admin' ? undefined : account, entry.route);
    if (tapped) {
      const exchange: Exchange = {
        plane: server,
        family: store?.family ?? null,
        route: entry.route,
        method,
        path,
        query: Object.fromEntries(query),
        requestHeaders: req.headers,
        requestBody: prefetched ?? Buffer.alloc(0),
        status: reply.status,
        responseHeaders: headers,
        responseBody: reply.json,
      };
      for (const listener of this.exchangeListeners) listener(exchange);
    }
  }

  /**
   * Dated family: `api-version` is required and must be one Azure serves, else Azure's gateway 404 "Resource not
   * found". v1: optional, `v1` or `preview` (the spec's enum), else 400 "API version not supported".
   */
  private checkDataPlane(req: IncomingMessage, query: URLSearchParams, family: Family | null, account: Account | undefined): void {
    const apiVersion = query.get('api-version');
    if (this.deps.strict && family === 'dated' && (apiVersion === null || !DATED_API_VERSIONS.has(apiVersion))) throw resourceNotFound();
    if (family === 'dated' && !apiVersion) throw resourceNotFound();
    if (this.deps.strict && family === 'v1' && apiVersion !== null && !V1_API_VERSIONS.has(apiVersion)) {
      throw new ApiError(400, 'BadRequest', 'API version not supported');
    }
    const key = req.headers['api-key'];
    if (typeof key === 'string') {
      if (account && key === account.apiKey) return;
      throw unauthorizedDataPlane();
    }
    const token = bearer(req);
    // The account key is also taken as a bearer token: the plain OpenAI client on the v1 family sends it that way.
    if (token !== undefined && (this.deps.acceptedTokens.has(token) || token === account?.apiKey)) return;
    throw unauthorizedDataPlane();
  }

  private checkArm(req: IncomingMessage, query: URLSearchParams): void {
    const token = bearer(req);
    if (token === undefined) throw unauthorizedArm(true);
    if (!this.deps.acceptedTokens.has(token)) throw unauthorizedArm(false);
    const apiVersion = query.get('api-version');
    if (!apiVersion) {
      throw new ApiError(400, 'MissingApiVersionParameter', "The api-version query parameter (?api-version=) is required for all requests.");
    }
    if (this.deps.strict && !ARM_API_VERSIONS.has(apiVersion)) {
      // ARM's answer for an api-version the resource provider does not register for the resource type.
      throw new ApiError(
        400,
        'NoRegisteredProviderFound',
        `No registered resource provider found for location 'global' and API version '${apiVersion}' for type 'accounts/deployments'. The supported api-versions are '${[...ARM_API_VERSIONS].join(', ')}'.`,
      );
    }
  }

  /**
   * Writes the answer with the headers the recordings show: data plane `apim-request-id` and `x-ms-region` (not on
   * gateway errors), JSON as `application/json; charset=utf-8` (gateway errors and PLAIN_JSON_ROUTES without the
   * charset); ARM `x-ms-request-id` and `x-ms-correlation-request-id`.
   */
  private write(res: ServerResponse, reply: Reply, server: 'data' | 'arm', account: Account | undefined, route: string): Record<string, string | number> {
    const headers: Record<string, string | number> = { ...reply.headers };
    const gateway = reply.gateway === true;
    const charset = !gateway && !PLAIN_JSON_ROUTES.has(route);
    if (server === 'arm') {
      headers['x-ms-request-id'] = newRequestId();
      headers['x-ms-correlation-request-id'] = newRequestId();
      headers['cache-control'] = 'no-cache';
    } else {
      headers['apim-request-id'] = newRequestId();
      if (account && !gateway) headers['x-ms-region'] = regionDisplayName(account.region);
    }
    let payload: string | Buffer | undefined;
    if (reply.json !== undefined) {
      payload = JSON.stringify(reply.json);
      headers['content-type'] = charset ? 'application/json; charset=utf-8' : 'application/json';
    } else if (reply.raw !== undefined) {
      payload = reply.raw;
      headers['content-type'] = reply.contentType ?? 'application/octet-stream';
    }
    if (payload !== undefined) headers['content-length'] = Buffer.byteLength(payload);
    else if (reply.status !== 204) headers['content-length'] = 0;
    res.writeHead(reply.status, headers);
    res.end(payload);
    return headers;
  }

  private record(entry: RequestLogEntry): void {
    if (this.log.length >= MAX_LOG_ENTRIES) this.log.splice(0, MAX_LOG_ENTRIES / 2);
    this.log.push(entry);
  }
}

function makeContext(
  req: IncomingMessage,
  method: string,
  path: string,
  query: URLSearchParams,
  params: Record<string, string | undefined>,
  store: RouteStore,
  account: Account | undefined,
  now: number,
  plane: Plane,
  prefetched: Buffer | undefined,
): RequestContext {
  let bodyPromise: Promise<Buffer> | undefined = prefetched ? Promise.resolve(prefetched) : undefined;
  const body = (): Promise<Buffer> => (bodyPromise ??= readBody(req));
  return {
    req,
    method,
    path,
    query,
    params,
    family: store.family,
    account,
    now,
    body,
    stream: () => (prefetched ? Readable.from([prefetched]) : req),
    async json() {
      const buf = await body();
      const bad = (message: string): ApiError =>
        plane === 'arm' ? new ApiError(400, 'InvalidRequestContent', message) : new ApiError(400, 'invalidPayload', message);
      if (buf.length === 0) throw bad('The request body is required.');
      let parsed: unknown;
      try {
        parsed = JSON.parse(buf.toString('utf8'));
      } catch {
        throw bad('The request body is not valid JSON.');
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw bad('The request body must be a JSON object.');
      return parsed as Record<string, unknown>;
    },
  };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function bearer(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const m = /^Bearer\s+(.+)$/i.exec(header);
  return m?.[1]?.trim() ?? '';
}

function armNotFound(path: string): ApiError {
  return new ApiError(404, 'ResourceNotFound', `The resource '${path}' was not found.`);
}

function errorReply(err: unknown, plane: Plane): Reply {
  if (err instanceof ApiError) {
    return { status: err.status, json: plane === 'arm' ? armErrorBody(err) : dataPlaneErrorBody(err), headers: err.headers, gateway: err.gateway };
  }
  console.error('ftpipe emulator: internal error:', err);
  const internal = new ApiError(500, plane === 'arm' ? 'InternalServerError' : INTERNAL_FAILURE, 'The emulator failed while processing the request.');
  return { status: 500, json: plane === 'arm' ? armErrorBody(internal) : dataPlaneErrorBody(internal) };
}

/** Last resort when writing an answer itself failed: log it and close the connection. */
function abort(res: ServerResponse, err: unknown): void {
  console.error('ftpipe emulator: failed to answer a request:', err);
  res.destroy();
}

const noop = (): void => undefined;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A create's answer: the dated family says 201 with a Location header, the v1 family 200. The recorded Locations:
 * `/openai/files/{id}` and, for a job, `/openai/fine_tuning/{id}` (no `/jobs/` segment).
 */
export function createdReply(ctx: RequestContext, json: unknown, locationSubpath: string): Reply {
  if (ctx.family !== 'dated') return { status: 200, json };
  const apiVersion = ctx.query.get('api-version') ?? '';
  const scheme = (ctx.req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  const location = `${scheme}://${ctx.req.headers.host ?? 'localhost'}/${ctx.account?.name ?? ''}/openai${locationSubpath}?api-version=${encodeURIComponent(apiVersion)}`;
  return { status: 201, json, headers: { location } };
}

/** Cursor paging as the OpenAI-style lists do it: items after the one with id `after`, at most `limit`. */
export function pageAfter<T extends { id: string }>(items: T[], query: URLSearchParams, defaultLimit: number, maxLimit: number): { data: T[]; hasMore: boolean } {
  const rawLimit = query.get('limit');
  const limit = rawLimit === null ? defaultLimit : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > maxLimit) {
    throw new ApiError(400, 'invalidPayload', `limit must be an integer between 1 and ${maxLimit}.`, 'limit');
  }
  const after = query.get('after');
  let start = 0;
  if (after) {
    const index = items.findIndex((i) => i.id === after);
    start = index === -1 ? items.length : index + 1;
  }
  const data = items.slice(start, start + limit);
  return { data, hasMore: start + limit < items.length };
}
