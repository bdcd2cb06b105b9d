/**
 * Micro-benchmark of the wasm BatchMatMul wrapper on batched products (libs/nn/src/kernels/matmul.ts):
 * ms per tf.matMul in each batchedMatMulSettings mode: 'loop' (the original kernel's scalar
 * loop, as before), 'xnnpack' (one XNNPACK product per matrix) and 'auto' (the default).
 *
 *   SWC_NODE_PROJECT=./tsconfig.json node -r @swc-node/register tools/bench/matmul.ts [--blocks 5] [--ms 150]
 *
 * Medians of `--blocks` blocks of about `--ms` ms each, off and on interleaved block by block.
 */
import { loadavg } from 'node:os';
import { batchedMatMulSettings, initBackend, tf } from '@chameleon/nn';

const arg = (flag: string, dflt: number) => {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const BLOCKS = arg('--blocks', 5);
const BLOCK_MS = arg('--ms', 150);

/** [batch, m, k, n, transposeA, transposeB, broadcast: 'a' | 'b' | ''] */
type Case = [number, number, number, number, boolean, boolean, '' | 'a' | 'b'];

const cases: Case[] = [
  // maml-generic (sinusoid MLP 1-40-40-1, 25 tasks x 10 points), forward and backward
  [25, 10, 40, 40, false, false, ''], [25, 10, 40, 40, false, true, ''], [25, 40, 10, 40, true, false, ''],
  [25, 10, 1, 40, false, false, ''], [25, 10, 1, 40, false, true, ''], [25, 1, 10, 40, true, false, ''],
  [25, 10, 40, 1, false, false, ''], [25, 40, 10, 1, true, false, ''],
  // the range: batch, size, transposes, broadcast
  [2, 10, 40, 40, false, false, ''], [4, 10, 40, 40, false, false, ''], [100, 10, 40, 40, false, false, ''],
  [25, 5, 5, 5, false, false, ''], [25, 10, 10, 10, false, false, ''], [25, 20, 20, 20, false, false, ''],
  [25, 10, 40, 40, true, true, ''], [25, 10, 40, 40, false, false, 'b'], [25, 10, 40, 40, false, true, 'b'], [25, 10, 40, 40, false, false, 'a'],
  [10, 50, 64, 64, false, false, ''], [10, 50, 64, 64, true, false, ''], [4, 400, 98, 64, false, false, ''], [4, 400, 98, 64, false, true, ''],
  [5, 75, 64, 5, false, false, ''], [5, 75, 64, 5, false, true, ''], [8, 3, 7, 5, false, false, ''],
];

function timeMs(f: () => void): number {
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < BLOCK_MS) {
    f();
    n++;
  }
  return (performance.now() - t0) / n;
}

const median = (v: number[]) => [...v].sort((x, y) => x - y)[v.length >> 1];

(async () => {
  await initBackend('wasm');
  console.log(`load average ${loadavg().map((v) => v.toFixed(2)).join(' ')}; ${BLOCKS} blocks of ${BLOCK_MS} ms`);
  console.log('| batch x [m,k].[k,n] | flags | loop ms | xnnpack ms | auto ms |');
  console.log('| --- | --- | ---: | ---: | ---: |');
  for (const [batch, m, k, n, ta, tb, bc] of cases) {
    const [sa, sb] = [ta ? [k, m] : [m, k], tb ? [n, k] : [k, n]];
    const a = tf.randomNormal(bc === 'a' ? sa : [batch, ...sa]);
    const b = tf.randomNormal(bc === 'b' ? sb : [batch, ...sb]);
    const mm = () => tf.dispose(tf.matMul(a, b, ta, tb));
    const modes = ['loop', 'xnnpack', 'auto'] as const;
    const ms = modes.map(() => [] as number[]);
    for (let i = 0; i < BLOCKS; i++)
      modes.forEach((mode, j) => {
        batchedMatMulSettings.mode = mode;
        ms[j].push(timeMs(mm));
      });
    batchedMatMulSettings.mode = 'auto';
    const spread = (v: number[]) => `${median(v).toFixed(3)} (${Math.min(...v).toFixed(3)}-${Math.max(...v).toFixed(3)})`;
    console.log(`| ${batch} x [${m},${k}].[${k},${n}]${bc ? ` (${bc} batch 1)` : ''} | ${ta ? 'A^T ' : ''}${tb ? 'B^T' : ''} | ${ms.map(spread).join(' | ')} |`);
    tf.dispose([a, b]);
  }
  console.log(`load average ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
})();
