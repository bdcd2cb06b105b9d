import { SinusoidSource } from '@chameleon/envs';
import { SinusoidFamily, sampleTasks } from '@chameleon/tasks';
import { initBackend, Mlp, mlpConfig, tf } from '@chameleon/nn';
import { Maml, metaGradientHost, initialState, optimiserConfig, optimiserStep } from '@chameleon/meta';

async function main() {
  console.log(await initBackend('wasm'));
  const model = new Mlp(mlpConfig.parse({}));
  const family = new SinusoidFamily();
  const source = new SinusoidSource();
  const maml = new Maml({ firstOrder: process.argv[2] === 'fo' });
  const cfg = optimiserConfig.parse({});
  const names = model.spec.map((p) => p.name);
  let params = model.init(0);
  let state = initialState(cfg, names, params.map((p) => p.length));
  const step = (i: number) => {
    const tasks = sampleTasks(family, { split: 'train', seed: 1, start: i * 25, count: 25 });
    const b = source.sample(tasks, { supportSize: 10, querySize: 10, seed: i });
    const r = metaGradientHost(maml, model, params, b, { steps: 1, learningRate: 0.01 });
    ({ params, state } = optimiserStep(cfg, names, params, r.grads, state));
    return r.metaLoss;
  };
  for (let i = 0; i < 30; i++) step(i);
  const t0 = performance.now();
  const N = 200;
  for (let i = 0; i < N; i++) step(i);
  console.log('it/s', (N * 1000) / (performance.now() - t0));
  const prof = await tf.profile(() => { step(0); });
  const counts: Record<string, { n: number; ms: number }> = {};
  for (const k of prof.kernels) { const c = (counts[k.name] ??= { n: 0, ms: 0 }); c.n++; c.ms += k.kernelTimeMs as number; }
  console.log('kernels', prof.kernels.length);
  console.log(Object.entries(counts).sort((a, b) => b[1].ms - a[1].ms).map(([k, v]) => `${k} ${v.n} ${v.ms.toFixed(2)}`).join('\n'));
}
main();
