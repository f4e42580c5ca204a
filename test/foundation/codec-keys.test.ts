/** The payload codec's keys: ids, rotation, key files, and errors that name the key, never its material. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AesGcmCodec, codecKeysFromEnv, parseKeyList, writeNewKeyFile } from '../../src/codec';

const key = (): string => randomBytes(32).toString('base64');
const payload = { metadata: { encoding: new TextEncoder().encode('json/plain') }, data: new TextEncoder().encode('{"secret":"s3cr3t"}') };

describe('payload codec keys', () => {
  it('encrypts with the current key, decrypts with every listed key (rotation), and passes plain payloads through', async () => {
    const old = `k1:${key()}`;
    const before = new AesGcmCodec(parseKeyList(old));
    const after = new AesGcmCodec(parseKeyList(`k2:${key()},${old}`));
    const [sealed] = await before.encode([payload]);
    assert.ok(!Buffer.from(sealed!.data!).includes('s3cr3t'));
    assert.equal(new TextDecoder().decode(sealed!.metadata!['encryption-key-id']), 'k1');
    assert.deepEqual(await after.decode([sealed!]), [payload]);
    const [resealed] = await after.encode([payload]);
    assert.equal(new TextDecoder().decode(resealed!.metadata!['encryption-key-id']), 'k2');
    await assert.rejects(before.decode([resealed!]), /encrypted with key "k2", which this process does not have/);
    assert.deepEqual(await after.decode([payload]), [payload], 'an unencrypted payload (a raw start) decodes as is');
    const tampered = { ...sealed!, data: Buffer.from(sealed!.data!).fill(0, 20, 21) };
    await assert.rejects(after.decode([tampered]));
  });

  it('reads keys from FTPIPE_CODEC_KEYS or a key file; bad keys name the id, not the material', () => {
    const material = Buffer.alloc(16, 7).toString('base64');
    assert.throws(() => parseKeyList(`short:${material}`), (err: Error) => /key "short" must be 32 bytes/.test(err.message) && !err.message.includes(material));
    assert.throws(() => parseKeyList('nocolon'), /<key id>:<base64 key>/);
    assert.equal(codecKeysFromEnv({}), undefined);
    const dir = mkdtempSync(join(tmpdir(), 'ftpipe-keys-'));
    const created = writeNewKeyFile(join(dir, 'nested', 'keys.json'), 'dev1');
    const loaded = codecKeysFromEnv({ FTPIPE_CODEC_KEY_FILE: join(dir, 'nested', 'keys.json') });
    assert.equal(loaded?.currentId, 'dev1');
    assert.deepEqual(loaded?.keys.get('dev1'), created.keys.get('dev1'));
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ current: 'x', keys: { y: key() } }));
    assert.throws(() => codecKeysFromEnv({ FTPIPE_CODEC_KEY_FILE: join(dir, 'bad.json') }), /current key "x" is not among the keys/);
  });
});
