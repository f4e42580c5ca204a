/**
 * Emulator throughput and latency: simple data-plane GETs (file and job retrieval) over keep-alive connections
 * on loopback, so that load tests know the emulator is not their bottleneck (target: >= 2,000 GETs/s on one core).
 * The emulator runs in a child process (one core, one event loop), so the load generator does not share its CPU.
 * Run: npx tsx bench/emulator.ts [seconds=5] [concurrency=32]
 */
import { Agent, request } from 'node:http';
import { fork } from 'node:child_process';
import { startEmulator } from '../src/emulator';

interface Target {
  host: string;
  port: number;
  paths: string[];
  apiKey: string;
}

const ACCOUNT = 'ftpipe-swc';
const API_VERSION = '2025-04-01-preview';
const SERVE_FLAG = '--serve-emulator';

/** Child side: an emulator with one file and one job to read. */
async function serve(): Promise<void> {
  const emu = await startEmulator({ clockScale: 0 });
  const account = emu.account(ACCOUNT);
  const endpoint = `${account.endpoint}/openai`;
  const headers = { 'api-key': account.apiKey };
  const lines = Array.from({ length: 10 }, (_, i) => JSON.stringify({ messages: [{ role: 'user', content: `q${i}` }, { role: 'assistant', content: `a${i}` }] }));
  const form = new FormData();
  form.append('purpose', 'fine-tune');
  form.append('file', new File([lines.join('\n')], 'bench.jsonl'));
  const file = (await (await fetch(`${endpoint}/files?api-version=${API_VERSION}`, { method: 'POST', headers, body: form })).json()) as { id: string };
  emu.control.advanceClock(60);
  const job = (await (
    await fetch(`${endpoint}/fine_tuning/jobs?api-version=${API_VERSION}`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4.1-mini', training_file: file.id }),
    })
  ).json()) as { id: string };
  const url = new URL(emu.dataPlaneUrl);
  const target: Target = {
    host: url.hostname,
    port: Number(url.port),
    paths: [`/${ACCOUNT}/openai/files/${file.id}?api-version=${API_VERSION}`, `/${ACCOUNT}/openai/fine_tuning/jobs/${job.id}?api-version=${API_VERSION}`],
    apiKey: account.apiKey,
  };
  process.send!(target);
}

async function drive(target: Target, seconds: number, concurrency: number): Promise<{ latencies: number[]; errors: number; elapsedMs: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  let errors = 0;
  const deadline = performance.now() + seconds * 1000;
  const one = (path: string): Promise<void> =>
    new Promise((resolve) => {
      const started = performance.now();
      const req = request({ host: target.host, port: target.port, path, agent, headers: { 'api-key': target.apiKey } }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) latencies.push(performance.now() - started);
          else errors++;
          resolve();
        });
      });
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end();
    });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      for (let i = worker; performance.now() < deadline; i++) await one(target.paths[i % target.paths.length]!);
    }),
  );
  agent.destroy();
  return { latencies, errors, elapsedMs: performance.now() - started };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 5);
  const concurrency = Number(process.argv[3] ?? 32);
  const child = fork(__filename, [SERVE_FLAG], { execArgv: ['--import', 'tsx'] });
  const target = await new Promise<Target>((resolve, reject) => {
    child.once('message', (m) => resolve(m as Target));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the emulator process exited with ${code}`)));
  });
  await drive(target, 1, concurrency); // warm-up
  const { latencies, errors, elapsedMs } = await drive(target, seconds, concurrency);
  child.kill();
  latencies.sort((a, b) => a - b);
  const rate = latencies.length / (elapsedMs / 1000);
  console.log(`emulator GET benchmark: ${seconds} s, ${concurrency} keep-alive connections, loopback, emulator in its own process`);
  console.log(`  requests:   ${latencies.length} ok, ${errors} failed`);
  console.log(`  throughput: ${rate.toFixed(0)} req/s (target >= 2000)`);
  console.log(`  latency:    p50 ${percentile(latencies, 50).toFixed(2)} ms, p99 ${percentile(latencies, 99).toFixed(2)} ms`);
  if (rate < 2000) process.exitCode = 1;
}

if (process.argv.includes(SERVE_FLAG)) void serve();
else void main();
