/**
 * What grew between two V8 heap snapshots (`.heapsnapshot`, e.g. bench/open-runs.ts `--snapshots`: the worker's
 * workflow threads with N and then M runs open), by object kind: self size and count per constructor or node type,
 * largest growth first, divided by `--per` (the runs added) when given. A closure's context shows as
 * `closure`/`system / Context`, a string as `string`.
 * `--retainers K`: the same growth by retainer path instead: each object is charged to the chain of its K nearest
 * retainers on its shortest path from the GC roots (as DevTools' "Retainers" shows first), so the rows say what holds
 * what grew, e.g. `CancelledFailure <-stack- ... <-3- Array <-childToParent- Object`.
 * A file argument may name several snapshots joined by `+` (one per workflow thread): they are summed.
 *
 *   npx tsx bench/heap-diff.ts <before.heapsnapshot[+...]> <after.heapsnapshot[+...]> [--per N] [--top 40] [--retainers K]
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]]; edge_fields: string[]; edge_types: [string[], ...unknown[]] } };
  nodes: number[];
  edges: number[];
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

/**
 * Each node's parent on a shortest path from the snapshot's root (breadth first over strong edges), with the edge's
 * name: node index -> [parent node index, edge label]; -1 for the root and unreachable nodes.
 */
function shortestRetainers(snap: Snapshot): { parent: Int32Array; label: string[] } {
  const fields = snap.snapshot.meta.node_fields;
  const width = fields.length;
  const edgeWidth = snap.snapshot.meta.edge_fields.length;
  const edgeTypes = snap.snapshot.meta.edge_types[0];
  const countAt = fields.indexOf('edge_count');
  const count = snap.nodes.length / width;
  const firstEdge = new Int32Array(count + 1);
  for (let n = 0; n < count; n++) firstEdge[n + 1] = firstEdge[n]! + snap.nodes[n * width + countAt]! * edgeWidth;
  const parent = new Int32Array(count).fill(-1);
  const label: string[] = new Array<string>(count);
  const seen = new Uint8Array(count);
  seen[0] = 1;
  let frontier = [0];
  while (frontier.length > 0) {
    const next: number[] = [];
    for (const n of frontier) {
      for (let e = firstEdge[n]!; e < firstEdge[n + 1]!; e += edgeWidth) {
        const type = edgeTypes[snap.edges[e]!];
        if (type === 'weak' || type === 'shortcut') continue;
        const to = snap.edges[e + 2]! / width;
        if (seen[to]) continue;
        seen[to] = 1;
        parent[to] = n;
        const nameOrIndex = snap.edges[e + 1]!;
        // Element and hidden edges are numbered: one label for all, so the rows sum over the elements.
        label[to] = type === 'element' ? '[]' : type === 'hidden' ? '#' : (snap.strings[nameOrIndex] ?? '?').slice(0, 30);
        next.push(to);
      }
    }
    frontier = next;
  }
  return { parent, label };
}

function totals(path: string, retainers: number): Totals {
  const out: Totals = new Map();
  for (const one of path.split('+')) {
    const snap = readSnapshot(one);
    const fields = snap.snapshot.meta.node_fields;
    const types = snap.snapshot.meta.node_types[0];
    const width = fields.length;
    const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [number, number, number];
    // Objects by constructor name; everything else (strings, code, arrays, closures, system) by its node type.
    const kind = (n: number): string => {
      const i = n * width;
      const type = types[snap.nodes[i + typeAt]!] ?? 'unknown';
      return type === 'object' ? `object ${snap.strings[snap.nodes[i + nameAt]!]}` : type === 'native' || type === 'hidden' || type === 'synthetic' ? `${type} ${snap.strings[snap.nodes[i + nameAt]!]?.slice(0, 60)}` : type;
    };
    const path = retainers > 0 ? shortestRetainers(snap) : undefined;
    for (let n = 0; n < snap.nodes.length / width; n++) {
      let key = kind(n);
      if (path) {
        for (let k = 0, at = n; k < retainers && path.parent[at]! > 0; k++, at = path.parent[at]!) key += ` <-${path.label[at]}- ${kind(path.parent[at]!).replace(/^object /, '')}`;
      }
      const entry = out.get(key) ?? { size: 0, count: 0 };
      entry.size += snap.nodes[n * width + sizeAt]!;
      entry.count += 1;
      out.set(key, entry);
    }
  }
  return out;
}

function main(): void {
  const [beforePath, afterPath] = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !all[i - 1]?.startsWith('--'));
  if (!beforePath || !afterPath) {
    console.error('usage: npx tsx bench/heap-diff.ts <before.heapsnapshot[+...]> <after.heapsnapshot[+...]> [--per N] [--top 40] [--retainers K]');
    process.exit(2);
  }
  const option = (name: string, fallback: number): number => {
    const at = process.argv.indexOf(name);
    return at > 0 ? Number(process.argv[at + 1]) : fallback;
  };
  const per = option('--per', 1);
  const top = option('--top', 40);
  const retainers = option('--retainers', 0);
  const before = totals(beforePath, retainers);
  const after = totals(afterPath, retainers);
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
