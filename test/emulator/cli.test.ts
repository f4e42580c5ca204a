import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, mock } from 'node:test';
import { Command } from 'commander';
import { registerEmulatorCommand } from '../../src/cli/commands/emulator';

describe('ftpipe emulator command', () => {
  it('prints endpoints, accounts, keys, token and how to trust the certificate, serves until SIGINT', async () => {
    const lines: string[] = [];
    const log = mock.method(console, 'log', (...args: unknown[]) => lines.push(args.join(' ')));
    try {
      const certDir = mkdtempSync(join(tmpdir(), 'emu-cli-'));
      const program = new Command('ftpipe').exitOverride();
      registerEmulatorCommand(program);
      const done = program.parseAsync(['emulator', '--clock-scale', '600', '--cert-dir', certDir], { from: 'user' });
      while (!lines.some((l) => l.includes('Ctrl-C stops'))) await new Promise((r) => setTimeout(r, 10));
      const output = lines.join('\n');
      assert.match(output, /running, clock x600/);
      assert.match(output, /ftpipe-swc\s+swedencentral\s+endpoint http:\/\/127\.0\.0\.1:\d+\/ftpipe-swc\s+api-key emulator-key-swc/);
      assert.match(output, /ARM id \/subscriptions\/00000000-0000-4000-8000-000000000002\/resourceGroups\/ftpipe-rg-eus2\/providers\/Microsoft\.CognitiveServices\/accounts\/ftpipe-eus2/);
      assert.match(output, /bearer token \(ARM and data plane\): ftpipe-emulator-token/);
      assert.ok(output.includes(`NODE_EXTRA_CA_CERTS=${join(certDir, 'emulator-cert.pem')}`));
      const admin = /control API:\s+(\S+)/.exec(output)![1]!;
      const clock = (await (await fetch(`${admin}/clock`)).json()) as { scale: number };
      assert.equal(clock.scale, 600);
      process.emit('SIGINT');
      await done;
      assert.match(lines[lines.length - 1]!, /stopped/);
      await assert.rejects(fetch(`${admin}/clock`));
    } finally {
      log.mock.restore();
    }
  });
});
