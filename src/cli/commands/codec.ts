/** `ftpipe codec-server`: the payload codec over HTTP, for the Temporal Web UI. */
import type { Command } from 'commander';
import { payloadCodecFromEnv } from '../../codec';
import { startCodecServer } from '../../codec/server';
import { listenProblem } from '../../dev/ports';
import { parsePort } from '../usage';

const DEFAULT_PORT = 8888;

export function registerCodecCommand(program: Command): void {
  program
    .command('codec-server')
    .description('Serve the payload codec (FTPIPE_CODEC_KEYS or FTPIPE_CODEC_KEY_FILE) to the Temporal Web UI: /encode and /decode with CORS')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on', parsePort, DEFAULT_PORT)
    .option('--origin <url...>', 'Web UI origins allowed to call it (CORS)', ['http://localhost:8233', 'http://127.0.0.1:8233', 'http://localhost:8080'])
    .option('--auth-token-env <name>', 'environment variable holding a bearer token every request must carry')
    .action(async (opts: { host: string; port: number; origin: string[]; authTokenEnv?: string }) => {
      const codec = payloadCodecFromEnv();
      if (!codec) throw new Error('no codec keys: set FTPIPE_CODEC_KEYS or FTPIPE_CODEC_KEY_FILE (see the README, "Encrypted payloads")');
      const authToken = opts.authTokenEnv ? process.env[opts.authTokenEnv] : undefined;
      if (opts.authTokenEnv && !authToken) throw new Error(`--auth-token-env ${opts.authTokenEnv}: the variable is not set`);
      let running;
      try {
        running = await startCodecServer({ codec, host: opts.host, port: opts.port, origins: opts.origin, ...(authToken ? { authToken } : {}) });
      } catch (err) {
        const problem = listenProblem(err, opts.port, opts.host);
        if (!problem) throw err;
        console.error(`ftpipe codec-server: ${opts.port === DEFAULT_PORT ? `--port ${DEFAULT_PORT} (the default)` : `--port ${opts.port}`}: ${problem}`);
        process.exitCode = 2;
        return;
      }
      console.log(`ftpipe codec server on ${running.url} (origins ${opts.origin.join(', ')}${authToken ? ', bearer token required' : ''}); Ctrl-C stops it`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await running.close();
    });
}
