/**
 * What grew between two V8 heap snapshots (`.heapsnapshot`, e.g. the pipelines bench's `--heap-snapshots`: the worker
 * idle, then with N runs open), by object kind: self size and count per constructor or node type, largest growth
 * first, divided by `--per` (the runs open) when given. Self sizes only (no retainers), so a closure's context shows as
 * `closure`/`system / Context`, a string as `string`.
 *
 *   npx tsx bench/heap-diff.ts <before.heapsnapshot> <after.heapsnapshot> [--per N] [--top 40]
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

type Totals = Map<string, { size: number; count: number }>;

function readSnapshot(path: string): Snapshot {
  return JSON.parse(readFileSync(path, 'utf8')) as Snapshot;
}

/** The live heap a snapshot holds: the sum of its nodes' self sizes (V8 collects garbage before it writes one). */
export function liveBytes(path: string): number {
  const snap = readSnapshot(path);
  const width = snap.snapshot.meta.node_fields.length;
  const sizeAt = snap.snapshot.meta.node_fields.indexOf('self_size');
  let total = 0;
  for (let i = sizeAt; i < snap.nodes.length; i += width) total += snap.nodes[i]!;
  return total;
}

function totals(path: string): Totals {
  const snap = readSnapshot(path);
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [number, number, number];
  const out: Totals = new Map();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt]!] ?? 'unknown';
    // Objects by constructor name; everything else (strings, code, arrays, closures, system) by its node type.
    const key = type === 'object' ? `object ${snap.strings[snap.nodes[i + nameAt]!]}` : type === 'native' || type === 'hidden' || type === 'synthetic' ? `${type} ${snap.strings[snap.nodes[i + nameAt]!]?.slice(0, 60)}` : type;
    const entry = out.get(key) ?? { size: 0, count: 0 };
    entry.size += snap.nodes[i + sizeAt]!;
    entry.count += 1;
    out.set(key, entry);
  }
  return out;
}

function main(): void {
  const [beforePath, afterPath] = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !all[i - 1]?.startsWith('--'));
  if (!beforePath || !afterPath) {
    console.error('usage: npx tsx bench/heap-diff.ts <before.heapsnapshot> <after.heapsnapshot> [--per N] [--top 40]');
    process.exit(2);
  }
  const option = (name: string, fallback: number): number => {
    const at = process.argv.indexOf(name);
    return at > 0 ? Number(process.argv[at + 1]) : fallback;
  };
  const per = option('--per', 1);
  const top = option('--top', 40);
  const before = totals(beforePath);
  const after = totals(afterPath);
  const rows = [...after].map(([key, a]) => {
    const b = before.get(key) ?? { size: 0, count: 0 };
    return { key, size: (a.size - b.size) / per, count: (a.count - b.count) / per };
  });
  rows.sort((x, y) => y.size - x.size);
  const grown = rows.reduce((sum, r) => sum + r.size, 0);
  console.log(`growth ${(grown / 1024).toFixed(0)} KiB${per !== 1 ? ` per open run (/${per})` : ''}; largest kinds:`);
  for (const r of rows.slice(0, top)) console.log(`${(r.size / 1024).toFixed(1).padStart(9)} KiB ${r.count.toFixed(1).padStart(9)} x  ${r.key}`);
}

if (require.main === module) main();
