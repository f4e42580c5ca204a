/**
 * The payload codec's keys: AES-256 keys with ids, from the environment or a key file, never from a workflow input.
 *
 *   FTPIPE_CODEC_KEYS="k2:<base64 32 bytes>,k1:<base64 32 bytes>"   the first one encrypts; all of them decrypt
 *   FTPIPE_CODEC_KEY_FILE=/etc/ftpipe/codec-keys.json               {"current": "k2", "keys": {"k2": "<base64>", "k1": "<base64>"}}
 *
 * Rotation: put a new key first (or make it `current`) and keep the old ones, so that histories written with them still
 * decrypt. Key material is never logged; errors name the key id and the variable or file.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

export interface CodecKeys {
  /** Encrypts new payloads. */
  currentId: string;
  /** Every key that may decrypt, by id. */
  keys: Map<string, Buffer>;
}

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
const KeyFileSchema = z.object({ current: z.string().regex(KEY_ID), keys: z.record(z.string().regex(KEY_ID), z.string()) }).strict();

function keyBytes(id: string, base64: string, source: string): Buffer {
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length !== 32) throw new Error(`${source}: key "${id}" must be 32 bytes in base64 (AES-256), got ${bytes.length} bytes`);
  return bytes;
}

export function parseKeyList(text: string, source = 'FTPIPE_CODEC_KEYS'): CodecKeys {
  const keys = new Map<string, Buffer>();
  let currentId: string | undefined;
  for (const entry of text.split(',').map((e) => e.trim()).filter(Boolean)) {
    const colon = entry.indexOf(':');
    const id = entry.slice(0, colon);
    if (colon < 1 || !KEY_ID.test(id)) throw new Error(`${source}: each entry is <key id>:<base64 key>, ids of letters, digits, ".", "_", "-"`);
    if (keys.has(id)) throw new Error(`${source}: key id "${id}" is used twice`);
    keys.set(id, keyBytes(id, entry.slice(colon + 1), source));
    currentId ??= id;
  }
  if (!currentId) throw new Error(`${source}: no key`);
  return { currentId, keys };
}

export function readKeyFile(path: string): CodecKeys {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`codec key file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'not valid JSON/YAML'}`);
  }
  const parsed = KeyFileSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`codec key file ${path}: expected {"current": id, "keys": {id: base64}}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; ')}`);
  const keys = new Map(Object.entries(parsed.data.keys).map(([id, key]) => [id, keyBytes(id, key, `codec key file ${path}`)] as const));
  if (!keys.has(parsed.data.current)) throw new Error(`codec key file ${path}: current key "${parsed.data.current}" is not among the keys`);
  return { currentId: parsed.data.current, keys };
}

/** The keys the environment names, or undefined when it names none (payloads are then written unencrypted). */
export function codecKeysFromEnv(env: NodeJS.ProcessEnv = process.env): CodecKeys | undefined {
  if (env.FTPIPE_CODEC_KEYS) return parseKeyList(env.FTPIPE_CODEC_KEYS);
  if (env.FTPIPE_CODEC_KEY_FILE) return readKeyFile(env.FTPIPE_CODEC_KEY_FILE);
  return undefined;
}

/** Writes a new key file with one random key (mode 0600), for a local stack that has none. */
export function writeNewKeyFile(path: string, id = `k${Date.now()}`): CodecKeys {
  const key = randomBytes(32);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify({ current: id, keys: { [id]: key.toString('base64') } }, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  return { currentId: id, keys: new Map([[id, key]]) };
}
