/** `ftpipe emulator`: the local Azure OpenAI + ARM emulator, until Ctrl-C. */
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadEmulatorConfig, startEmulator, type EmulatorOptions } from '../../emulator';
import { checkDevPorts, refusedUsage } from '../../dev/ports';
import { stateDir } from '../../paths';
import { parseClockScale, parsePort } from '../usage';

interface EmulatorCommandOptions {
  config?: string;
  host?: string;
  port?: number;
  armPort?: number;
  clockScale?: number;
  stateFile?: string;
  certDir?: string;
}

export function registerEmulatorCommand(program: Command): void {
  program
    .command('emulator')
    .description('Run the Azure OpenAI and ARM emulator (files, fine-tuning, deployments, inference) until Ctrl-C')
    .option('--config <file>', 'YAML/JSON config: accounts, acceptedTokens, timings, faults (see docs/emulator.md)')
    .option('--host <host>', 'address to listen on (default 127.0.0.1)')
    .option('--port <port>', 'data-plane (http) port; 0 picks a free one', parsePort)
    .option('--arm-port <port>', 'ARM (https) port; 0 picks a free one', parsePort)
    .option('--clock-scale <n>', 'emulated seconds per real second (1 = realistic, 600 = a job in seconds)', parseClockScale)
    .option('--state-file <file>', 'keep state in this file across restarts')
    .option('--cert-dir <dir>', 'where the TLS certificate is kept and reused', join(stateDir(), 'emulator', 'certs'))
    .action(async (opts: EmulatorCommandOptions) => {
      const options: EmulatorOptions = { ...(opts.config ? loadEmulatorConfig(opts.config) : {}) };
      if (opts.host !== undefined) options.host = opts.host;
      if (opts.port !== undefined) options.port = opts.port;
      if (opts.armPort !== undefined) options.armPort = opts.armPort;
      if (opts.clockScale !== undefined) options.clockScale = opts.clockScale;
      if (opts.stateFile !== undefined) options.stateFile = opts.stateFile;
      if (opts.certDir !== undefined) options.certDir = opts.certDir;
      try {
        // A port from --config is named as the file's key, so that the line says where to change it.
        const from = (flag: string, key: string, given: number | undefined): string => (given !== undefined ? flag : `${opts.config ?? ''} ${key}:`);
        await checkDevPorts([
          { flag: from('--port', 'port', opts.port), port: options.port ?? 0 },
          { flag: from('--arm-port', 'armPort', opts.armPort), port: options.armPort ?? 0 },
        ], options.host);
      } catch (err) {
        if (refusedUsage('emulator', err)) return;
        throw err;
      }
      const emu = await startEmulator(options);
      const width = Math.max(...emu.accounts.map((a) => a.name.length));
      console.log(`ftpipe emulator: running, clock x${emu.control.clockScale()}`);
      console.log(`  data plane:   ${emu.dataPlaneUrl}/<account>   (AzureOpenAI endpoint; both /openai and /openai/v1)`);
      console.log(`  ARM:          ${emu.armEndpoint}   (ARM client endpoint)`);
      console.log(`  control API:  ${emu.adminUrl}   (clock, faults, requests, state)`);
      console.log('  accounts:');
      for (const a of emu.accounts) {
        console.log(`    ${a.name.padEnd(width)}  ${a.region.padEnd(15)} endpoint ${a.endpoint}  api-key ${a.apiKey}`);
        console.log(`    ${''.padEnd(width)}  ARM id ${a.armId}`);
      }
      console.log(`  bearer token (ARM and data plane): ${emu.acceptedTokens.join(', ')}`);
      console.log(`  trust the ARM certificate: caCertPath: ${emu.caCertPath} in the profile,`);
      console.log(`    or for any Node process: NODE_EXTRA_CA_CERTS=${emu.caCertPath}`);
      console.log(options.stateFile ? `  state file:   ${options.stateFile}` : '  state: in memory (use --state-file to keep it)');
      console.log('  Ctrl-C stops.');
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await emu.stop();
      console.log('ftpipe emulator: stopped');
    });
}
