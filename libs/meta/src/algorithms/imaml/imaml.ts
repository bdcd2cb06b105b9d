import { z } from 'zod';
import { accuracyPerTask, dim, lossPerTask, tf, type FunctionalModel, type LossName, type Tensor } from '@chameleon/nn';
import type { PluginManifest } from '@chameleon/plugins';
import { recordedAdapt, taskLosses, tileTasks } from '../../adapt';
import type { AdaptInput, AdaptOutput, InnerLoopConfig, MetaAlgorithm, MetaGradientInput, MetaGradientOutput } from '../../types';
import { ruleAdapt, taskDot, type InnerRule } from '../common/unroll';
import { conjugateGradient } from './cg';

export const imamlConfig = z
  .object({
    /** Strength lambda of the proximal term lambda/2 ||phi - theta||^2 in the inner problem. Default 2. */
    lambda: z.number().positive().max(1e6).default(2),
    /** Conjugate-gradient steps for the implicit meta-gradient. Default 5. */
    cgSteps: z.number().int().min(1).max(1000).default(5),
    /**
     * Inner optimiser on the regularised support loss, with the run's inner learning rate: "sgd", "adam", or
     * "newton-cg" (each step solves (I + H/lambda) d = grad/lambda by `cgSteps` CG steps and moves by
     * learningRate * d: learningRate 1 is a full Newton step on the proximal objective, whatever the
     * support loss's curvature). Default "sgd".
     */
    innerOptimiser: z.enum(['sgd', 'adam', 'newton-cg']).default('sgd'),
  })
  .strict();
export type ImamlConfig = z.infer<typeof imamlConfig>;

const ADAM = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

/**
 * Hessian-vector products of each task's support loss at per-task parameters phi [T, ...]:
 * H_t v_t for every task, as the gradient of sum_t <grad L_t(phi_t), v_t> (tasks are
 * independent, so the gradient w.r.t. phi_t is H_t v_t).
 */
export function supportHvp(model: FunctionalModel, phi: readonly Tensor[], x: Tensor, y: Tensor, loss: LossName, v: readonly Tensor[]): Tensor[] {
  return tf.grads((...p: Tensor[]) => {
    const g = tf.grads((...q: Tensor[]) => tf.sum(taskLosses(model, q, x, y, loss)))(p);
    return tf.sum(taskDot(g, v)) as tf.Scalar;
  })([...phi]);
}

/**
 * iMAML, meta-learning with implicit gradients (Rajeswaran, Finn, Kakade & Levine 2019).
 * The inner loop approximately solves the proximal problem
 *   phi_i = argmin_phi L_support_i(phi) + lambda/2 ||phi - theta||^2
 * (gradient descent or Adam, the run's inner steps and learning rate, off any tape). At its
 * solution dphi/dtheta = (I + H_i/lambda)^-1 with H_i the support loss's Hessian at phi_i,
 * so the meta-gradient is sum_i g_i with (I + H_i/lambda) g_i = grad_phi L_query_i(phi_i),
 * solved by conjugate gradient with Hessian-vector products: memory independent of the
 * number of inner steps.
 */
export class Imaml implements MetaAlgorithm {
  readonly name = 'imaml';

  constructor(readonly config: ImamlConfig = imamlConfig.parse({})) {}

  paramSpec(model: FunctionalModel) {
    return [...model.spec];
  }

  init(model: FunctionalModel, seed: number) {
    return model.init(seed);
  }

  /** The inner optimiser on the regularised support loss, anchored at per-task theta. */
  proximalRule(anchor: readonly Tensor[], inner: InnerLoopConfig): InnerRule {
    const { lambda, innerOptimiser } = this.config;
    const m: Tensor[] = [];
    const v: Tensor[] = [];
    return {
      step: (i, s, g, current) => {
        const grad = tf.add(g, tf.mul(lambda, tf.sub(current, anchor[i])));
        if (innerOptimiser === 'sgd') return tf.mul(inner.learningRate, grad);
        m[i] = m[i] ? tf.add(tf.mul(ADAM.beta1, m[i]), tf.mul(1 - ADAM.beta1, grad)) : tf.mul(1 - ADAM.beta1, grad);
        v[i] = v[i] ? tf.add(tf.mul(ADAM.beta2, v[i]), tf.mul(1 - ADAM.beta2, tf.square(grad))) : tf.mul(1 - ADAM.beta2, tf.square(grad));
        const mHat = tf.div(m[i], 1 - ADAM.beta1 ** (s + 1));
        const vHat = tf.div(v[i], 1 - ADAM.beta2 ** (s + 1));
        return tf.mul(inner.learningRate, tf.div(mHat, tf.add(tf.sqrt(vHat), ADAM.epsilon)));
      },
    };
  }

  /** The implicit meta-gradient per task: solves (I + H_i/lambda) g_i = q_i by CG. */
  implicitGradients(model: FunctionalModel, phi: readonly Tensor[], x: Tensor, y: Tensor, loss: LossName, queryGrads: readonly Tensor[]): Tensor[] {
    const scale = 1 / this.config.lambda;
    const apply = (v: readonly Tensor[]) => {
      const hv = supportHvp(model, phi, x, y, loss, v);
      return v.map((vi, i) => tf.add(vi, tf.mul(scale, hv[i])));
    };
    return conjugateGradient(apply, queryGrads, this.config.cgSteps);
  }

  /**
   * The inner solve of the proximal problem from theta, off any tape: `inner.steps` steps of the
   * configured optimiser. Newton-CG: at phi, d solves (I + H(phi)/lambda) d = g/lambda with
   * g = grad L(phi) + lambda (phi - theta), the gradient of the proximal objective, so
   * (H + lambda I) d = g; then phi <- phi - learningRate * d.
   */
  solve(input: AdaptInput): AdaptOutput {
    const anchor = tileTasks(input.params, dim(input.supportX, 0));
    if (this.config.innerOptimiser !== 'newton-cg') return ruleAdapt(input, { model: input.model, start: anchor, rule: this.proximalRule(anchor, input.inner) });
    const { model, supportX, supportY, loss, inner } = input;
    const { lambda } = this.config;
    const data = { supportX, supportY, loss, queryX: input.queryX, queryY: input.queryY, predictX: input.predictX };
    return recordedAdapt(model, anchor, data, inner.steps, (phi) => {
      const { value, grads } = tf.valueAndGrads((...p: Tensor[]) => taskLosses(model, p, supportX, supportY, loss))(phi);
      const rhs = grads.map((g, i) => tf.div(tf.add(g, tf.mul(lambda, tf.sub(phi[i], anchor[i]))), lambda));
      const d = this.implicitGradients(model, phi, supportX, supportY, loss, rhs);
      return { phi: phi.map((p, i) => tf.sub(p, tf.mul(inner.learningRate, d[i]))), losses: value };
    });
  }

  metaGradient({ model, params, batch, inner, loss }: MetaGradientInput): MetaGradientOutput {
    const adapted = this.solve({ model, params, supportX: batch.supportX, supportY: batch.supportY, inner, loss });
    let accuracy: Tensor | undefined;
    // The mean over tasks: each task's query gradient carries the 1/T of the meta-objective.
    const { value, grads: queryGrads } = tf.valueAndGrads((...phi: Tensor[]) => {
      const out = model.forwardPerTask(phi, batch.queryX);
      if (loss === 'cross-entropy') accuracy = tf.keep(tf.mean(accuracyPerTask(out, batch.queryY)));
      return tf.mean(lossPerTask(loss, out, batch.queryY)) as tf.Scalar;
    })(adapted.phi);
    const g = this.implicitGradients(model, adapted.phi, batch.supportX, batch.supportY, loss, queryGrads);
    return { grads: g.map((gi) => tf.sum(gi, 0)), metaLoss: value, supportLosses: adapted.supportLosses, metaAccuracy: accuracy };
  }

  adapt(input: AdaptInput): AdaptOutput {
    return this.solve(input);
  }
}

export const imamlPlugin: PluginManifest<'algorithm', ImamlConfig, MetaAlgorithm> = {
  kind: 'algorithm',
  name: 'imaml',
  version: '1.0.0',
  description: 'iMAML: proximal inner loop, implicit meta-gradient by conjugate gradient (Rajeswaran et al. 2019)',
  configSchema: imamlConfig,
  create: (config) => new Imaml(config),
};
