/** ftpipe's payload encryption: one codec for its client, CLI and worker, and the codec server for the Web UI. */
import type { PayloadCodec } from '@temporalio/common';
import { AesGcmCodec } from './aes-gcm-codec';
import { codecKeysFromEnv } from './keys';

export { AesGcmCodec, ENCRYPTED_ENCODING } from './aes-gcm-codec';
export { codecKeysFromEnv, parseKeyList, readKeyFile, writeNewKeyFile, type CodecKeys } from './keys';

/** The codec the environment configures (FTPIPE_CODEC_KEYS or FTPIPE_CODEC_KEY_FILE), or undefined for none. */
export function payloadCodecFromEnv(env: NodeJS.ProcessEnv = process.env): PayloadCodec | undefined {
  const keys = codecKeysFromEnv(env);
  return keys ? new AesGcmCodec(keys) : undefined;
}
