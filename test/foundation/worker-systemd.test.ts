/**
 * examples/systemd/ftpipe-worker.service, the unit docs/operations.md explains. systemd does not run on ftpipe's
 * machines, so the unit is checked, not run: systemd-analyze's own parser (where it is installed), every flag of its
 * ExecStart against `ftpipe worker --help`, a stop timeout above the worker's shutdown grace, KillMode=mixed, the
 * worker's malloc setting, and credentials only in the EnvironmentFile (worker.env.example beside it has no values).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { msToNumber } from '@temporalio/common/lib/time';
import { WORKER_PROCESS_ENV } from '../../workers/launcher';
import { ROOT, runCli } from '../helpers/cli';

const UNIT_PATH = join(ROOT, 'examples', 'systemd', 'ftpipe-worker.service');
const ENV_EXAMPLE_PATH = join(ROOT, 'examples', 'systemd', 'worker.env.example');

/** The unit's settings by section, each key with its values in order (systemd allows a key more than once). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    assert.ok(!line.endsWith('\\'), `line ${index + 1}: a continued line (this parser reads one line per setting)`);
    const section = /^\[(.+)\]$/.exec(line);
    if (section) {
      current = new Map();
      sections.set(section[1]!, current);
      continue;
    }
    const setting = /^([A-Za-z]+)=(.*)$/.exec(line);
    assert.ok(setting && current, `line ${index + 1}: not a setting of a section: ${line}`);
    current.set(setting[1]!, [...(current.get(setting[1]!) ?? []), setting[2]!]);
  }
  return sections;
}

/** A systemd time span ("90", "90s", "1min 30s", "2m"; systemd.time(7)) in milliseconds. */
function systemdSpanMs(span: string): number {
  const units: Record<string, number> = { us: 0.001, ms: 1, s: 1000, sec: 1000, second: 1000, seconds: 1000, m: 60_000, min: 60_000, minute: 60_000, minutes: 60_000, h: 3_600_000, hr: 3_600_000, hour: 3_600_000, hours: 3_600_000 };
  if (/^\d+$/.test(span)) return Number(span) * 1000;
  let total = 0;
  const rest = span.replace(/(\d+(?:\.\d+)?)\s*([a-z]+)\s*/g, (_match, value: string, unit: string) => {
    const factor = units[unit];
    assert.ok(factor, `unknown time unit "${unit}" in "${span}"`);
    total += Number(value) * factor;
    return '';
  });
  assert.equal(rest, '', `not a time span: "${span}"`);
  return total;
}

/** The single value of a key. */
function one(section: Map<string, string[]> | undefined, key: string): string {
  const values = section?.get(key) ?? [];
  assert.equal(values.length, 1, `${key}= is set ${values.length} times`);
  return values[0]!;
}

/** Names of the variables that hold credentials (README, "Configuration for real Azure" and the Temporal variables). */
const CREDENTIAL_NAME = /(API_KEY|SECRET|TOKEN|PASSWORD|PASSPHRASE|CODEC_KEYS|KEY_DATA)$/;

describe('examples/systemd/ftpipe-worker.service', () => {
  const text = readFileSync(UNIT_PATH, 'utf8');
  const unit = parseUnit(text);
  const service = unit.get('Service');
  const execStart = one(service, 'ExecStart').split(/\s+/);
  const workerArgs = execStart.slice(execStart.indexOf('worker') + 1);
  const flag = (name: string): string | undefined => {
    const at = workerArgs.indexOf(name);
    return at < 0 ? undefined : workerArgs[at + 1];
  };

  it('runs `ftpipe worker` with flags the command has', async () => {
    assert.deepEqual(execStart.slice(0, 3), ['/usr/bin/node', '/opt/ftpipe/bin/ftpipe.js', 'worker']);
    const { code, output } = await runCli(['worker', '--help']);
    assert.equal(code, 0, output);
    const flags = workerArgs.filter((arg) => arg.startsWith('--'));
    assert.ok(flags.length > 0);
    for (const name of flags) assert.match(output, new RegExp(`^\\s+${name}[ ,]`, 'm'), `${name} is not a flag of ftpipe worker:\n${output}`);
  });

  it('waits longer than the shutdown grace before SIGKILL, and sends SIGTERM to the main process only', () => {
    const grace = flag('--shutdown-grace');
    assert.ok(grace, 'the unit sets --shutdown-grace (the worker\'s default is 30 s)');
    const graceMs = msToNumber(grace as Parameters<typeof msToNumber>[0]);
    const stopMs = systemdSpanMs(one(service, 'TimeoutStopSec'));
    // The SDK cancels the activities at the end of the grace time; their cancellation and the connection's close follow.
    assert.ok(stopMs >= graceMs + 15_000, `TimeoutStopSec ${stopMs} ms is not well above --shutdown-grace ${graceMs} ms`);
    assert.equal(one(service, 'KillMode'), 'mixed');
    assert.equal(one(service, 'KillSignal'), 'SIGTERM');
    assert.equal(one(service, 'RestartPreventExitStatus'), '2', 'bad usage (exit 2) is not restarted');
  });

  it('sets the worker\'s process settings and takes credentials only from its EnvironmentFile', () => {
    const environment = new Map((service?.get('Environment') ?? []).map((assignment) => {
      const at = assignment.indexOf('=');
      return [assignment.slice(0, at), assignment.slice(at + 1)] as const;
    }));
    for (const [name, value] of Object.entries(WORKER_PROCESS_ENV)) assert.equal(environment.get(name), value, `Environment=${name}=${value}`);
    for (const name of environment.keys()) assert.doesNotMatch(name, CREDENTIAL_NAME, `a credential in the unit: ${name}`);
    assert.doesNotMatch(text, /^\s*Environment=.*(API_KEY|SECRET|TOKEN|PASSWORD|CODEC_KEYS)/m);
    assert.equal(one(service, 'EnvironmentFile'), '/etc/ftpipe/worker.env');
    assert.ok(!workerArgs.some((arg) => CREDENTIAL_NAME.test(arg.replace(/^--/, '').replace(/-/g, '_').toUpperCase())), 'a credential on the command line');
  });

  it('worker.env.example names the credentials and gives none a value', () => {
    const lines = readFileSync(ENV_EXAMPLE_PATH, 'utf8').split('\n');
    const assignments = lines.map((line) => /^\s*#?\s*([A-Z][A-Z0-9_]*)=(.*)$/.exec(line)).filter((m): m is RegExpExecArray => m !== null);
    const names = assignments.map((m) => m[1]!);
    for (const name of ['TEMPORAL_ADDRESS', 'TEMPORAL_API_KEY', 'AZURE_OPENAI_API_KEY', 'AZURE_CLIENT_SECRET', 'FTPIPE_CODEC_KEYS']) assert.ok(names.includes(name), `${name} is not in worker.env.example`);
    for (const [, name, value] of assignments) if (CREDENTIAL_NAME.test(name!)) assert.equal(value, '', `${name} has a value in the example`);
    for (const line of lines) assert.doesNotMatch(line, /^\s*export\s/, 'systemd reads VARIABLE=value lines, not shell');
  });

  const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
  it('passes systemd-analyze verify (with this machine\'s node)', { skip: analyze.status === 0 ? false : 'systemd-analyze is not installed' }, () => {
    // verify checks that ExecStart's program exists: this machine's node in place of /usr/bin/node.
    const dir = mkdtempSync(join(tmpdir(), 'ftpipe-systemd-'));
    const copy = join(dir, 'ftpipe-worker.service');
    writeFileSync(copy, text.replace(/^ExecStart=\/usr\/bin\/node /m, `ExecStart=${process.execPath} `));
    const verified = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(verified.status, 0, verified.stderr);
    // It reports an unknown key or a value it cannot parse on stderr and still exits 0.
    assert.equal(verified.stderr.trim(), '', verified.stderr);
    const broken = join(dir, 'broken.service');
    writeFileSync(broken, text.replace(/^KillMode=.*$/m, 'KillMode=gentle'));
    assert.match(spawnSync('systemd-analyze', ['verify', broken], { encoding: 'utf8', timeout: 120_000 }).stderr, /kill mode/i, 'verify reports a bad value');
  });
});
