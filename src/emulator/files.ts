/**
 * Files: multipart upload, import from an https URL (dated family only), get, list, content, delete, on both URL
 * families. A fine-tune file is validated when its content arrives and reports `pending` until the emulated
 * processing time has passed, then `processed` or `error` (with the problem, naming the line, in `status_details`).
 */
import { get as httpsGet } from 'node:https';
import { readFile } from 'node:fs/promises';
import { rootCertificates } from 'node:tls';
import { fileURLToPath } from 'node:url';
import busboy from 'busboy';
import type { EmulatedClock } from './clock';
import type { Timings } from './config';
import { enforceFileQuota } from './quotas';
import { createdReply, pageAfter, type Dispatcher, type RequestContext, type Reply } from './server';
import { UPLOAD_PURPOSES } from './service';
import { exampleTokens } from './tokens';
import { ApiError, invalidPayload, notFound, unexpectedEntityState } from './errors';
import { fileDeletedJson, fileJson, listJson, newFileId, type Family } from './shapes';
import type { Account, EmulatorState, ExampleFormat, FileRecord, FileValidation } from './state';

const MAX_FILE_BYTES = 512 * 1024 * 1024;
const MIN_TRAINING_EXAMPLES = 10;

export type FileStatus = 'pending' | 'processed' | 'error';

export class FileService {
  /** Derived from content, so not persisted: rebuilt on first use after a restart. */
  private readonly validations = new Map<string, FileValidation>();

  constructor(
    private readonly state: EmulatorState,
    private readonly clock: EmulatedClock,
    private readonly timings: Timings,
    /** PEM of the emulator's certificate: imports trust it besides the system roots (the emulator's blob store). */
    private readonly trustedCa: string,
    /** False in lenient mode: imports may then also read http:// and file:// URLs. */
    private readonly strict: boolean,
  ) {}

  register(d: Dispatcher): void {
    d.data('files.upload', 'POST', '/files', ['dated', 'v1'], (ctx) => this.upload(ctx));
    d.data('files.import', 'POST', '/files/import', ['dated'], (ctx) => this.importFromUrl(ctx));
    d.data('files.list', 'GET', '/files', ['dated', 'v1'], (ctx) => this.list(ctx));
    d.data('files.get', 'GET', '/files/:fileId', ['dated', 'v1'], (ctx) => this.get(ctx));
    d.data('files.content', 'GET', '/files/:fileId/content', ['dated', 'v1'], (ctx) => this.content(ctx));
    d.data('files.delete', 'DELETE', '/files/:fileId', ['dated', 'v1'], (ctx) => this.remove(ctx));
  }

  status(file: FileRecord, now: number): FileStatus {
    if (file.content === null) return file.problem ? 'error' : 'pending';
    if (now < file.readyAt) return 'pending';
    if (file.purpose !== 'fine-tune') return 'processed';
    return this.validation(file).ok ? 'processed' : 'error';
  }

  validation(file: FileRecord): FileValidation {
    let v = this.validations.get(file.id);
    if (!v) {
      v = validateTrainingJsonl(file.content ?? Buffer.alloc(0));
      this.validations.set(file.id, v);
    }
    return v;
  }

  /** A file of this account, or a 404 naming it. */
  find(account: Account, id: string, now: number): FileRecord {
    this.expire(now);
    const file = this.state.files.get(id);
    if (!file || file.account !== account.name) throw notFound();
    return file;
  }

  /** A `fine-tune` file ready for training, or the 400 Azure gives for the field `param`. */
  requireTrainingFile(account: Account, id: unknown, param: string, now: number): { file: FileRecord; validation: FileValidation } {
    if (typeof id !== 'string' || id.length === 0) throw invalidPayload(`${param} is required and must be a file id.`, param);
    this.expire(now);
    const file = this.state.files.get(id);
    if (!file || file.account !== account.name) throw invalidPayload(`The file '${id}' given as ${param} was not found.`, param);
    if (file.purpose !== 'fine-tune') throw invalidPayload(`The file '${id}' has purpose '${file.purpose}'; ${param} needs purpose 'fine-tune'.`, param);
    const status = this.status(file, now);
    if (status === 'pending') throw invalidPayload(`The file '${id}' is not processed yet (status: pending). Wait until its status is 'processed'.`, param);
    const validation = this.validation(file);
    if (status === 'error') throw new ApiError(400, 'jsonlValidationFailed', `The file '${id}' failed validation: ${file.problem ?? validation.problem ?? 'invalid'}`, param);
    if (param === 'training_file' && validation.examples < MIN_TRAINING_EXAMPLES) {
      throw invalidPayload(`The training file '${id}' has ${validation.examples} examples; fine-tuning needs at least ${MIN_TRAINING_EXAMPLES}.`, param);
    }
    return { file, validation };
  }

  addResultFile(account: string, filename: string, content: string, now: number): FileRecord {
    const buffer = Buffer.from(content, 'utf8');
    const file: FileRecord = { id: newFileId(), account, filename, purpose: 'fine-tune-results', bytes: buffer.length, createdAt: now, readyAt: now, content: buffer };
    this.state.files.set(file.id, file);
    this.state.markDirty();
    return file;
  }

  private async upload(ctx: RequestContext): Promise<Reply> {
    const account = ctx.account!;
    const form = await readMultipart(ctx);
    const purpose = form.fields.get('purpose');
    if (!purpose) throw invalidPayload("'purpose' is a required form field.", 'purpose');
    checkPurpose(purpose, ctx.family!);
    if (!form.file) throw invalidPayload("'file' is a required form field.", 'file');
    // The dated spec names the form fields `expires_after.anchor`/`.seconds`; the openai SDK sends `expires_after[...]`.
    const expiry = checkExpiresAfter(
      form.fields.get('expires_after[anchor]') ?? form.fields.get('expires_after.anchor'),
      form.fields.get('expires_after[seconds]') ?? form.fields.get('expires_after.seconds'),
      ctx.family!,
    );
    this.expire(ctx.now);
    enforceFileQuota(account, this.state.files.values(), purpose, form.file.content.length);
    const file = this.store(account, form.file.filename, purpose, form.file.content, ctx.now);
    if (expiry !== undefined) file.expiresAt = ctx.now + expiry * 1000;
    return createdReply(ctx, fileJson(file, this.status(file, ctx.now)), `/files/${file.id}`);
  }

  private async importFromUrl(ctx: RequestContext): Promise<Reply> {
    const account = ctx.account!;
    const body = await ctx.json();
    const { purpose, filename, content_url: contentUrl } = body;
    if (typeof purpose !== 'string') throw invalidPayload("'purpose' is required.", 'purpose');
    checkPurpose(purpose, 'dated');
    if (typeof filename !== 'string' || filename.length === 0) throw invalidPayload("'filename' is required.", 'filename');
    // Azure downloads the content itself, from the internet: a SAS blob URL or another https URL it can GET.
    const schemes = this.strict ? /^https:\/\//i : /^(file:|https?:\/\/)/i;
    // `FileImport.content_url` has `format: url`: one that does not parse (or names no host) is refused, not downloaded.
    if (typeof contentUrl !== 'string' || !schemes.test(contentUrl) || !isUrl(contentUrl)) {
      throw invalidPayload("'content_url' must be an https:// URL the service can download (for example a blob SAS URL).", 'content_url');
    }
    const expiresAfter = body.expires_after;
    if (expiresAfter !== undefined && (typeof expiresAfter !== 'object' || expiresAfter === null || Array.isArray(expiresAfter))) {
      throw invalidPayload("'expires_after' must be an object with anchor and seconds.", 'expires_after');
    }
    const { anchor, seconds } = (expiresAfter ?? {}) as Record<string, unknown>;
    const expiry = checkExpiresAfter(anchor, seconds, 'dated');
    this.expire(ctx.now);
    enforceFileQuota(account, this.state.files.values(), purpose, 0);
    const file: FileRecord = { id: newFileId(), account: account.name, filename, purpose, bytes: 0, createdAt: ctx.now, readyAt: ctx.now, content: null };
    if (expiry !== undefined) file.expiresAt = ctx.now + expiry * 1000;
    this.state.files.set(file.id, file);
    this.state.markDirty();
    void download(contentUrl, this.trustedCa).then(
      (content) => {
        if (!this.state.files.has(file.id)) return;
        if (content.length > MAX_FILE_BYTES) {
          file.problem = `fileImportFailed: the content at the URL is larger than ${MAX_FILE_BYTES} bytes.`;
        } else {
          file.content = content;
          file.bytes = content.length;
          file.readyAt = this.clock.now() + this.timings.fileProcessingSeconds * 1000;
          this.noteValidationProblem(file);
        }
        this.state.markDirty();
      },
      (err: unknown) => {
        file.problem = `fileImportFailed: ${err instanceof Error ? err.message : String(err)}`;
        this.state.markDirty();
      },
    );
    return createdReply(ctx, fileJson(file, 'pending'), `/files/${file.id}`);
  }

  private list(ctx: RequestContext): Reply {
    const account = ctx.account!;
    const purpose = ctx.query.get('purpose');
    // The dated spec defines purpose, limit (1..10,000, default 10,000), after and order here; the v1 spec only
    // purpose, so on v1 the others are ignored (as undefined body fields are dropped): one page of every file.
    const query = ctx.family === 'v1' ? new URLSearchParams(purpose === null ? {} : { purpose }) : ctx.query;
    const order = query.get('order') ?? 'desc';
    // The dated spec's `purpose` is its Purpose enum (the upload's list) and `order` "asc ... desc": others are refused.
    if (ctx.family === 'dated') {
      if (purpose !== null) checkPurpose(purpose, 'dated');
      if (order !== 'asc' && order !== 'desc') throw invalidPayload(`'${order}' is not a sort order. Use asc or desc.`, 'order');
    }
    this.expire(ctx.now);
    const files = [...this.state.files.values()].filter((f) => f.account === account.name && (!purpose || f.purpose === purpose));
    files.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
    if (order !== 'asc') files.reverse();
    const { data, hasMore } = pageAfter(files, query, 10_000, 10_000);
    return { status: 200, json: listJson(ctx.family!, 'files', data.map((f) => fileJson(f, this.status(f, ctx.now)) as { id: string }), hasMore) };
  }

  private get(ctx: RequestContext): Reply {
    const file = this.find(ctx.account!, ctx.params.fileId!, ctx.now);
    return { status: 200, json: fileJson(file, this.status(file, ctx.now)) };
  }

  private content(ctx: RequestContext): Reply {
    const file = this.find(ctx.account!, ctx.params.fileId!, ctx.now);
    if (file.content === null) throw unexpectedEntityState(`The file '${file.id}' has no content yet (its import has not finished).`);
    return { status: 200, raw: file.content, contentType: 'application/octet-stream' };
  }

  /** The recordings: 200 `deleted: true`, and 200 `deleted: false` when the file was already deleted. */
  private remove(ctx: RequestContext): Reply {
    const id = ctx.params.fileId!;
    this.expire(ctx.now);
    const deleted = this.state.deletedFiles.get(id);
    if (deleted && deleted.account === ctx.account!.name) return { status: 200, json: fileDeletedJson(id, false) };
    this.forget(this.find(ctx.account!, id, ctx.now));
    // Recorded with 2024-05-01-preview: 204 without a body (2025-01-01-preview and later: 200 with deleted: true).
    if (ctx.family === 'dated' && (ctx.query.get('api-version') ?? '') < '2024-06-01') return { status: 204 };
    return { status: 200, json: fileDeletedJson(id, true) };
  }

  /**
   * Deletes the files whose `expires_after` has run out, as Azure does (dated spec `File.expires_at`: "when the file
   * has expired"): afterwards they answer like deleted files (404, not listed, not usable by a job).
   */
  expire(now: number): void {
    for (const file of this.state.files.values()) if (file.expiresAt !== undefined && file.expiresAt <= now) this.forget(file);
  }

  private forget(file: FileRecord): void {
    this.state.files.delete(file.id);
    this.state.deletedFiles.set(file.id, { id: file.id, account: file.account });
    this.validations.delete(file.id);
    this.state.markDirty();
  }

  private store(account: Account, filename: string, purpose: string, content: Buffer, now: number): FileRecord {
    const file: FileRecord = {
      id: newFileId(),
      account: account.name,
      filename,
      purpose,
      bytes: content.length,
      createdAt: now,
      // Recorded: a fine-tune file answers `pending` (validation runs); a batch file is `processed` at once.
      readyAt: purpose === 'fine-tune' ? now + this.timings.fileProcessingSeconds * 1000 : now,
      content,
    };
    this.state.files.set(file.id, file);
    this.noteValidationProblem(file);
    this.state.markDirty();
    return file;
  }

  private noteValidationProblem(file: FileRecord): void {
    if (file.purpose !== 'fine-tune') return;
    const v = this.validation(file);
    // Azure's wording (recorded): "Validation of jsonl file failed: ..."; the emulator's detail names the line.
    if (!v.ok) file.problem = `Validation of jsonl file failed: ${v.problem ?? 'invalid content'}`;
  }
}

async function readMultipart(ctx: RequestContext): Promise<{ fields: Map<string, string>; file?: { filename: string; content: Buffer } }> {
  const type = ctx.req.headers['content-type'] ?? '';
  if (!type.toLowerCase().startsWith('multipart/form-data')) throw invalidPayload('The request must be multipart/form-data with fields file and purpose.');
  return new Promise((resolve, reject) => {
    const fields = new Map<string, string>();
    let file: { filename: string; content: Buffer } | undefined;
    let tooLarge = false;
    const parser = busboy({ headers: ctx.req.headers, limits: { fileSize: MAX_FILE_BYTES } });
    parser.on('field', (name, value) => fields.set(name, value));
    parser.on('file', (name, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('limit', () => (tooLarge = true));
      stream.on('end', () => {
        if (name === 'file') file = { filename: info.filename ?? 'file', content: Buffer.concat(chunks) };
      });
    });
    const head: Buffer[] = [];
    let headBytes = 0;
    parser.on('close', () => {
      if (tooLarge) reject(invalidPayload(`The file is larger than ${MAX_FILE_BYTES} bytes; import large files from a URL.`, 'file'));
      else if (file && fileContentTypeMissing(Buffer.concat(head).toString('latin1'), type)) reject(invalidPayload('The file has no or an empty content type specified.'));
      else resolve(file ? { fields, file } : { fields });
    });
    parser.on('error', () => reject(invalidPayload('The multipart body is malformed.')));
    const source = ctx.stream();
    source.on('data', (c: Buffer) => {
      if (headBytes >= MULTIPART_HEAD_BYTES) return;
      head.push(c);
      headBytes += c.length;
    });
    source.pipe(parser);
  });
}

/** How far into a multipart body the `file` part's headers are looked for (the fields before it are small). */
const MULTIPART_HEAD_BYTES = 64 * 1024;

/**
 * Whether the `file` part's headers carry no Content-Type (or an empty one), which Azure refuses: 400
 * `{"error":{"code":"invalidPayload","message":"The file has no or an empty content type specified."}}`, answered to
 * the .NET SDK's upload of a fine-tuning file (Azure/azure-sdk-for-net#44710, 2024-06). busboy reports such a part as
 * text/plain, so the part's raw headers are read. A part whose headers lie beyond the first 64 KB is not judged.
 */
function fileContentTypeMissing(head: string, contentType: string): boolean {
  const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const delimiter = boundary ? `--${boundary[1] ?? boundary[2]}` : undefined;
  if (!delimiter) return false;
  for (const part of head.split(delimiter).slice(1)) {
    const end = part.indexOf('\r\n\r\n');
    if (end === -1) continue;
    const headers = part.slice(0, end);
    if (!/^content-disposition:[^\r\n]*\bname="?file"?(?:;|\s|$)/im.test(headers)) continue;
    return !/^content-type:[ \t]*\S/im.test(headers);
  }
  return false;
}

/**
 * `expires_after` of an upload or import, as each spec defines it: `seconds` 1209600..2592000 (dated spec; the v1
 * spec types it int32), `anchor` only `created_at` (both specs' enum); the v1 spec requires both once either is sent
 * (`AzureCreateFileRequestMultiPart.expires_after.required`). Returns the seconds, or undefined without an expiry.
 */
function checkExpiresAfter(anchor: unknown, seconds: unknown, family: Family): number | undefined {
  if (anchor === undefined && seconds === undefined) return undefined;
  if (anchor !== undefined && anchor !== 'created_at') throw invalidPayload("expires_after.anchor must be 'created_at'.", 'expires_after.anchor');
  if (family === 'v1' && (anchor === undefined || seconds === undefined)) {
    throw invalidPayload('expires_after needs both anchor and seconds.', anchor === undefined ? 'expires_after.anchor' : 'expires_after.seconds');
  }
  if (seconds === undefined) return undefined;
  const n = typeof seconds === 'string' && seconds.trim() !== '' ? Number(seconds) : seconds;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1_209_600 || n > 2_592_000) {
    throw invalidPayload('expires_after.seconds must be an integer between 1209600 and 2592000.', 'expires_after.seconds');
  }
  return n;
}

function isUrl(value: string): boolean {
  if (value.toLowerCase().startsWith('file:')) return true;
  try {
    return new URL(value).hostname.length > 0;
  } catch {
    return false;
  }
}

function checkPurpose(purpose: string, family: Family): void {
  const allowed = UPLOAD_PURPOSES[family];
  if (!allowed.has(purpose)) throw invalidPayload(`'${purpose}' is not a supported purpose. Supported: ${[...allowed].join(', ')}.`, 'purpose');
}

/** Downloads an import's content (https, trusting the system roots and the emulator's own certificate). */
async function download(url: string, trustedCa: string): Promise<Buffer> {
  if (url.toLowerCase().startsWith('file:')) return readFile(fileURLToPath(url));
  if (url.toLowerCase().startsWith('http:')) {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
    return Buffer.from(await response.arrayBuffer());
  }
  return new Promise((resolve, reject) => {
    const request = httpsGet(url, { ca: [...rootCertificates, trustedCa] }, (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        reject(new Error(`GET ${new URL(url).origin}${new URL(url).pathname} answered ${response.statusCode ?? 0}`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_FILE_BYTES) request.destroy(new Error(`the content at the URL is larger than ${MAX_FILE_BYTES} bytes`));
        else chunks.push(c);
      });
      response.on('end', () => resolve(Buffer.concat(chunks)));
      response.on('error', reject);
    });
    request.on('error', reject);
  });
}

/**
 * Validates fine-tuning JSONL the way the service does (a UTF-8 BOM is allowed): every line one JSON object in a
 * single format (chat `messages` with an assistant turn, DPO `input`/`preferred_output`/`non_preferred_output`,
 * or RFT `messages` ending with a user turn). The minimum of ten examples applies to a job's training file, so it is
 * checked when a job is created, not here (a small validation file is fine).
 */
export function validateTrainingJsonl(content: Buffer): FileValidation {
  const text = content.toString('utf8').replace(/^\uFEFF/, '');
  const references: Record<string, string> = {};
  let format: ExampleFormat | null = null;
  let examples = 0;
  let tokens = 0;
  const fail = (problem: string): FileValidation => ({ ok: false, problem, format, examples, tokens, references });
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line.length === 0) continue;
    const lineNo = i + 1;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      // Azure's wording, with its 0-based line number (recorded: "Deserialization of line #0 failed.").
      return fail(`Deserialization of line #${lineNo - 1} failed.`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return fail(`line ${lineNo}: each line must be a JSON object.`);
    const example = exampleOf(parsed as Record<string, unknown>);
    if (typeof example === 'string') return fail(`line ${lineNo}: ${example}`);
    if (format !== null && example.format !== format) return fail(`line ${lineNo}: the example is in ${example.format} format but earlier lines are in ${format} format.`);
    format = example.format;
    examples++;
    tokens += exampleTokens(parsed as Record<string, unknown>, example.format);
    if (example.prompt !== undefined && example.answer !== undefined) references[example.prompt] = example.answer;
  }
  if (examples === 0) return fail('the file has no examples.');
  return { ok: true, format, examples, tokens, references };
}

interface Example {
  format: ExampleFormat;
  prompt?: string;
  answer?: string;
}

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool']);

function exampleOf(line: Record<string, unknown>): Example | string {
  if ('input' in line || 'preferred_output' in line) {
    const input = line.input as { messages?: unknown } | undefined;
    const messages = checkMessages(input?.messages, 'input.messages');
    if (typeof messages === 'string') return messages;
    const preferred = checkMessages(line.preferred_output, 'preferred_output');
    if (typeof preferred === 'string') return preferred;
    const nonPreferred = checkMessages(line.non_preferred_output, 'non_preferred_output');
    if (typeof nonPreferred === 'string') return nonPreferred;
    return { format: 'preference', prompt: lastContent(messages, 'user'), answer: lastContent(preferred, 'assistant') };
  }
  const messages = checkMessages(line.messages, 'messages');
  if (typeof messages === 'string') return messages;
  const last = messages[messages.length - 1]!;
  if (last.role === 'user') return { format: 'reinforcement' };
  if (!messages.some((m) => m.role === 'assistant')) return "'messages' needs at least one assistant message.";
  const lastAssistant = messages.map((m) => m.role).lastIndexOf('assistant');
  return { format: 'chat', prompt: lastContent(messages.slice(0, lastAssistant), 'user'), answer: lastContent(messages, 'assistant') };
}

type Message = { role: string; content: unknown };

function checkMessages(value: unknown, field: string): Message[] | string {
  if (!Array.isArray(value) || value.length === 0) return `'${field}' must be a non-empty array of messages.`;
  for (const [i, m] of value.entries()) {
    if (typeof m !== 'object' || m === null) return `'${field}[${i}]' must be an object.`;
    const { role, content } = m as Message;
    if (typeof role !== 'string' || !ROLES.has(role)) return `'${field}[${i}].role' must be one of ${[...ROLES].join(', ')}.`;
    if (content !== undefined && content !== null && typeof content !== 'string' && !Array.isArray(content)) return `'${field}[${i}].content' must be a string or an array of parts.`;
  }
  return value as Message[];
}

export function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part: unknown) => (typeof part === 'object' && part !== null && typeof (part as { text?: unknown }).text === 'string' ? (part as { text: string }).text : ''))
      .join('');
  }
  return '';
}

function lastContent(messages: Message[], role: string): string | undefined {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i]!.role === role) return messageText(messages[i]!.content).trim();
  return undefined;
}
