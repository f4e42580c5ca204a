/** ftpipe's payload encryption: one codec for its client, CLI and worker, and the codec server for the Web UI. */
import type { DataConverter, PayloadCodec } from '@temporalio/common';
import { AesGcmCodec } from './aes-gcm-codec';
import { codecKeysFromEnv } from './keys';

export { AesGcmCodec, ENCRYPTED_ENCODING } from './aes-gcm-codec';
export { codecKeysFromEnv, parseKeyList, readKeyFile, writeNewKeyFile, type CodecKeys } from './keys';

/** The codec the environment configures (FTPIPE_CODEC_KEYS or FTPIPE_CODEC_KEY_FILE), or undefined for none. */
export function payloadCodecFromEnv(env: NodeJS.ProcessEnv = process.env): PayloadCodec | undefined {
  const keys = codecKeysFromEnv(env);
  return keys ? new AesGcmCodec(keys) : undefined;
}

/** The module that exports ftpipe's failure converter (for `bundleWorkflowCode`'s `failureConverterPath`). */
export const FAILURE_CONVERTER_PATH = require.resolve('./failure-converter');

/**
 * The data converter of every ftpipe client, worker and CLI command: failures' messages and stack traces encoded as
 * payloads (see ./failure-converter), and every payload encrypted by `codec` when there is one.
 */
export function ftpipeDataConverter(codec: PayloadCodec | undefined): DataConverter {
  return { failureConverterPath: FAILURE_CONVERTER_PATH, payloadCodecs: codec ? [codec] : [] };
}
