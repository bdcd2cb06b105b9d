import { initBackend } from '@chameleon/nn';
import { advantageConfig } from './advantages';
import { adaptPolicy } from './maml-rl';
import { mamlRlProblem } from './maml-problem';
import { GaussianMlpPolicy, gaussianMlpPolicyConfig } from './policy';
import { axpy, dot, navigationBatches, randomUnit } from './test-helpers';

beforeAll(async () => {
  await initBackend('wasm');
});

// tanh keeps the objective smooth, so central differences are meaningful (no ReLU kinks).
const policy = new GaussianMlpPolicy(gaussianMlpPolicyConfig.parse({ observationSize: 2, actionSize: 2, hidden: [8], activation: 'tanh', init: 0.5, initStd: 0.5 }));
const advantages = advantageConfig.parse({});
const innerLr = 0.1;
const theta = policy.init(3);
const T = 3;

/** Fixed D_i sampled with theta and D'_i sampled with theta'_i(theta), as in a real iteration. */
function fixedData() {
  const pre = navigationBatches(policy, Array.from({ length: T }, () => theta), { tasks: T, episodes: 4, horizon: 10, seed: 7 });
  const adapted = adaptPolicy(policy, theta, pre, innerLr, 1, advantages);
  const post = navigationBatches(policy, adapted, { tasks: T, episodes: 4, horizon: 10, seed: 8 });
  return { pre, post };
}

describe('MAML-RL meta-gradient (second order)', () => {
  it('matches central finite differences of the post-update surrogate along random directions, and first order does not', () => {
    const { pre, post } = fixedData();
    const so = mamlRlProblem(policy, theta, pre, post, { innerLr, firstOrder: false, hvp: 'exact', advantages });
    const fo = mamlRlProblem(policy, theta, pre, post, { innerLr, firstOrder: true, hvp: 'exact', advantages });
    try {
      const g = so.surrogateAndGradient().gradient;
      const gFo = fo.surrogateAndGradient().gradient;
      // float32: the surrogate is a mean of O(1) terms, rounded to about 1e-6 absolute; with
      // eps = 1e-2 that is at most ~1e-4 in the central difference, and the O(eps^2) truncation
      // error is ~1e-5. So 5e-4 (+0.5% relative) bounds a correct gradient with margin (measured
      // worst: ~3e-6), while the first-order gradient misses by >100x more (measured ~5e-2).
      const eps = 1e-2;
      const tol = (fd: number) => 5e-4 + 5e-3 * Math.abs(fd);
      let worst = 0;
      let foMiss = 0;
      for (let d = 0; d < 6; d++) {
        const v = randomUnit(g.length, 100 + d);
        const fd = (so.evaluate(axpy(so.x0, eps, v)).surrogate - so.evaluate(axpy(so.x0, -eps, v)).surrogate) / (2 * eps);
        const err = Math.abs(dot(g, v) - fd);
        worst = Math.max(worst, err);
        foMiss = Math.max(foMiss, Math.abs(dot(gFo, v) - fd));
        console.log(`direction ${d}: analytic ${dot(g, v).toExponential(4)} fd ${fd.toExponential(4)} |diff| ${err.toExponential(2)} first-order ${dot(gFo, v).toExponential(4)}`);
        expect(err).toBeLessThan(tol(fd));
      }
      console.log(`worst second-order discrepancy ${worst.toExponential(2)}, largest first-order miss ${foMiss.toExponential(2)}`);
      expect(foMiss).toBeGreaterThan(20 * tol(0));
    } finally {
      so.dispose();
      fo.dispose();
    }
  });
});

describe('MAML-RL KL Hessian-vector product', () => {
  // KL gradients vanish at theta_old and grow like eps * Hv; eps = 1e-2 keeps the O(eps^2)
  // truncation near 1e-4 relative and float32 rounding of gradients of size ~1e-2 near 1e-5
  // relative, so 1% of |Hv| separates right from wrong by far (measured about 3e-5).
  it.each([['exact (J^T F J)', 'exact'], ['double-backprop (third order)', 'double-backprop']] as const)('%s matches central finite differences of the KL gradient through the inner step', (_name, hvp) => {
    const { pre, post } = fixedData();
    const p = mamlRlProblem(policy, theta, pre, post, { innerLr, firstOrder: false, hvp, advantages });
    try {
      const eps = 1e-2;
      for (let d = 0; d < 3; d++) {
        const v = randomUnit(p.x0.length, 200 + d);
        const hv = p.klHvp(v);
        const plus = p.klGradient(axpy(p.x0, eps, v));
        const minus = p.klGradient(axpy(p.x0, -eps, v));
        const fd = plus.map((a, i) => (a - minus[i]) / (2 * eps));
        const diff = Math.sqrt(fd.reduce((s, a, i) => s + (a - hv[i]) ** 2, 0));
        const norm = Math.sqrt(dot(fd, fd));
        console.log(`${hvp} HVP direction ${d}: |Hv| ${norm.toExponential(3)} |Hv - fd| ${diff.toExponential(2)} vHv ${dot(v, hv).toExponential(3)}`);
        expect(diff).toBeLessThan(1e-2 * norm + 1e-5);
        expect(dot(v, hv)).toBeGreaterThan(0);
      }
    } finally {
      p.dispose();
    }
  });

  it('the three HVP methods agree, and the first-order HVP is the mean Fisher product (differs)', () => {
    const { pre, post } = fixedData();
    const make = (hvp: 'exact' | 'double-backprop' | 'finite-difference', firstOrder = false) => mamlRlProblem(policy, theta, pre, post, { innerLr, firstOrder, hvp, advantages });
    const problems = [make('exact'), make('double-backprop'), make('finite-difference'), make('exact', true), make('double-backprop', true)];
    try {
      const v = randomUnit(problems[0].x0.length, 300);
      const [ex, db, fd, foEx, foDb] = problems.map((p) => p.klHvp(v));
      const norm = Math.sqrt(dot(ex, ex));
      const dist = (a: Float32Array, b: Float32Array) => Math.sqrt(a.reduce((s, x, i) => s + (x - b[i]) ** 2, 0));
      expect(dist(ex, db)).toBeLessThan(1e-4 * norm);
      expect(dist(ex, fd)).toBeLessThan(1e-2 * norm);
      expect(dist(foEx, foDb)).toBeLessThan(1e-4 * norm);
      expect(dist(ex, foEx)).toBeGreaterThan(1e-2 * norm);
    } finally {
      problems.forEach((p) => p.dispose());
    }
  });
});
