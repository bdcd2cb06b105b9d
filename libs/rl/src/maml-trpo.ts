import { z } from 'zod';
import { advantageConfig } from './advantages';
import { mamlRlProblem } from './maml-problem';
import type { Policy } from './policy';
import { backtrackingLineSearch, trpoConfig, trpoFullStep, unflattenHost } from './trpo';
import type { TrajectoryBatch } from './trajectory';

export const mamlTrpoConfig = z
  .object({
    /** Inner (adaptation) step size alpha. Default 0.1 (MAML-RL). */
    innerLr: z.number().min(0).default(0.1),
    /** Treat the inner gradient as a constant (first-order MAML). Default false (second order). */
    firstOrder: z.boolean().default(false),
    /**
     * Hessian-vector products of the KL: "exact" (sum_i J_i^T F_i J_i v by double backprop,
     * equal to the full Hessian at theta_old), "double-backprop" (grad of (grad KL . v) through
     * everything, third order: the slower reference) or "finite-difference" of KL gradients,
     * as MAML's original code did. Default exact.
     */
    hvp: z.enum(['exact', 'double-backprop', 'finite-difference']).default('exact'),
    /**
     * Use the fused path for Gaussian MLP policies with the exact HVP (libs/rl/src/fast: every
     * task's rows in one tensor set, hand-written forward/backward/forward-mode passes, the
     * closed-form Fisher product; same maths, about 10x faster). false forces the generic
     * autodiff path, the reference. Default true.
     */
    fused: z.boolean().default(true),
    /** TRPO outer step: max KL 0.01, 10 CG iterations, damping 1e-5, line search 0.8 x 15. */
    trpo: trpoConfig.default(trpoConfig.parse({})),
    /** Returns, baseline and advantages of pre- and post-update data (gamma 0.99, lambda 1). */
    advantages: advantageConfig.default(advantageConfig.parse({})),
  })
  .strict();
export type MamlTrpoConfig = z.infer<typeof mamlTrpoConfig>;

export interface MamlTrpoDiagnostics {
  /** Outer surrogate at theta (before the step). */
  readonly surrogateBefore: number;
  /** At the returned theta (equal to before when rejected). */
  readonly surrogateAfter: number;
  /** Mean KL between the adapted policies before and after (0 when rejected). */
  readonly kl: number;
  /** Line-search tries evaluated. */
  readonly lineSearchSteps: number;
  readonly accepted: boolean;
  readonly cgIterations: number;
  /** Global L2 norm of the meta-gradient. */
  readonly gradNorm: number;
}

/**
 * One MAML-TRPO meta-iteration (Finn et al. 2017, section 5.3; TRPO as in their code):
 * maximise L(theta) = mean_i surrogate(theta'_i(theta), D'_i) subject to
 * mean_i KL(pi_{theta'_i(theta_old)} || pi_{theta'_i(theta)}) <= maxKl on D'_i, where
 * theta'_i(theta) = theta + innerLr grad J_i(theta) on D_i. The meta-gradient and the KL's
 * Hessian-vector products differentiate through the inner step (unless firstOrder). A step
 * that fails the line search leaves theta unchanged. `pre[i]`/`post[i]` are task i's D_i and
 * D'_i (D'_i sampled with adaptPolicy's theta'_i(theta)).
 *
 * @example
 *   const cfg = mamlTrpoConfig.parse({});
 *   const { theta: next, diagnostics } = mamlTrpoStep(policy, theta, preByTask, postByTask, cfg);
 */
export function mamlTrpoStep(
  policy: Policy,
  theta: readonly Float32Array[],
  pre: readonly TrajectoryBatch[],
  post: readonly TrajectoryBatch[],
  config: MamlTrpoConfig,
): { theta: Float32Array[]; diagnostics: MamlTrpoDiagnostics } {
  const problem = mamlRlProblem(policy, theta, pre, post, config);
  try {
    const { surrogate: before, gradient } = problem.surrogateAndGradient();
    const { step, cgIterations } = trpoFullStep(gradient, (v) => problem.klHvp(v), config.trpo);
    const ls = backtrackingLineSearch(problem.x0, step, (x) => problem.evaluate(x), before, config.trpo);
    return {
      theta: ls.accepted ? unflattenHost(ls.x, theta.map((p) => p.length)) : theta.map((p) => p.slice()),
      diagnostics: {
        surrogateBefore: before,
        surrogateAfter: ls.surrogate,
        kl: ls.kl,
        lineSearchSteps: ls.steps,
        accepted: ls.accepted,
        cgIterations,
        gradNorm: Math.sqrt(gradient.reduce((s, v) => s + v * v, 0)),
      },
    };
  } finally {
    problem.dispose();
  }
}
