import { z } from 'zod';
import type { Rng } from '@chameleon/core';
import { tf, type ParamSpec, type Tensor } from '@chameleon/nn';
import type { PluginManifest } from '@chameleon/plugins';
import { gaussianLogProb, type DiagGaussian } from '../gaussian';
import type { ActResult } from '../host-policy';
import { GaussianMlpPolicy, gaussianMlpPolicyConfig, type Policy } from '../policy';

export const stepSizePolicyConfig = gaussianMlpPolicyConfig
  .extend({
    /** M: inner policy-gradient steps, each with its own learned step sizes. Default 1 (eq. 9 at execution is one step). */
    innerSteps: z.number().int().min(1).max(10).default(1),
    /** Every step size alpha starts here. Default 0.1 (MAML-RL's inner learning rate). */
    initialStepSize: z.number().gt(0).default(0.1),
    /** One alpha per parameter (Meta-SGD-like, the default) or one per parameter tensor. */
    stepSizes: z.enum(['parameter', 'tensor']).default('parameter'),
  })
  .strict();
export type StepSizePolicyConfig = z.infer<typeof stepSizePolicyConfig>;

/** Name of step m's step sizes for parameter `param`: "alpha/<param>" for the first step (what the meta-adapter agent reads), "alpha/step<m>/<param>" after. */
export const stepSizeName = (step: number, param: string) => (step === 0 ? `alpha/${param}` : `alpha/step${step}/${param}`);

/**
 * A Gaussian MLP policy that carries its learned inner-loop step sizes alpha as parameters
 * (Al-Shedivat et al. 2018 learn theta and alpha together). Its parameter list is the policy's
 * P tensors followed by M x P alpha tensors ({@link stepSizeName}); the distribution depends on
 * the first P only. Carrying alpha in the parameter list means every place that stores
 * parameters (checkpoints, the wire, the meta-optimiser's trainees) stores alpha too.
 *
 * @example
 *   const policy = new StepSizePolicy(stepSizePolicyConfig.parse({ observationSize: 83, actionSize: 8 }));
 *   const { policy: theta, alpha } = policy.split(policy.init(0)); // alpha[m][k] for step m, parameter k
 */
export class StepSizePolicy implements Policy {
  readonly name = 'gaussian-mlp-step-sizes';
  readonly base: GaussianMlpPolicy;
  readonly spec: ParamSpec[];
  readonly observationSize: number;
  readonly actionSize: number;
  /** P: the policy's own parameter tensors. */
  readonly policyTensors: number;
  readonly innerSteps: number;

  constructor(readonly config: StepSizePolicyConfig = stepSizePolicyConfig.parse({})) {
    const { innerSteps, initialStepSize: _a, stepSizes: _s, ...base } = config;
    this.base = new GaussianMlpPolicy(gaussianMlpPolicyConfig.parse(base));
    this.observationSize = this.base.observationSize;
    this.actionSize = this.base.actionSize;
    this.policyTensors = this.base.spec.length;
    this.innerSteps = innerSteps;
    const alphaShape = (s: ParamSpec) => (config.stepSizes === 'parameter' ? s.shape : [1]);
    this.spec = [...this.base.spec, ...Array.from({ length: innerSteps }, (_, m) => this.base.spec.map((s) => ({ name: stepSizeName(m, s.name), shape: alphaShape(s) })))].flat();
  }

  /** The policy's parameters and the step sizes of each inner step (views, not copies). */
  split<T>(params: readonly T[]): { policy: T[]; alpha: T[][] } {
    const P = this.policyTensors;
    return { policy: params.slice(0, P), alpha: Array.from({ length: this.innerSteps }, (_, m) => params.slice(P + m * P, P + (m + 1) * P)) };
  }

  init(seed: number): Float32Array[] {
    const theta = this.base.init(seed);
    return [...theta, ...this.spec.slice(this.policyTensors).map((s) => new Float32Array(s.shape.reduce((a, b) => a * b, 1)).fill(this.config.initialStepSize))];
  }

  private own<T>(params: readonly T[]): T[] {
    return params.slice(0, this.policyTensors);
  }

  /**
   * Ties the step sizes into a tensor with weight zero: tfjs refuses gradients with respect to
   * inputs the output does not depend on, and generic callers (the learner's adaptation, TRPO)
   * differentiate with respect to the whole list. alpha's gradient through here is exactly 0.
   */
  private tie(params: readonly Tensor[], x: Tensor): Tensor {
    const extra = params.slice(this.policyTensors);
    return extra.length ? tf.add(x, tf.mul(0, tf.addN(extra.map((t) => tf.sum(t))))) : x;
  }

  private tied(params: readonly Tensor[], d: DiagGaussian): DiagGaussian {
    return { mean: d.mean, logStd: this.tie(params, d.logStd) };
  }

  distribution(params: readonly Tensor[], obs: Tensor): DiagGaussian {
    return this.tied(params, this.base.distribution(this.own(params), obs));
  }
  logProb(params: readonly Tensor[], obs: Tensor, actions: Tensor): Tensor {
    return gaussianLogProb(this.distribution(params, obs), actions);
  }
  kl(paramsOld: readonly Tensor[], paramsNew: readonly Tensor[], obs: Tensor, mask?: Tensor): Tensor {
    return this.tie(paramsNew, this.tie(paramsOld, this.base.kl(this.own(paramsOld), this.own(paramsNew), obs, mask)));
  }
  entropy(params: readonly Tensor[], obs: Tensor, mask?: Tensor): Tensor {
    return this.tie(params, this.base.entropy(this.own(params), obs, mask));
  }
  distributionPerTask(params: readonly Tensor[], obs: Tensor): DiagGaussian {
    return this.tied(params, this.base.distributionPerTask(this.own(params), obs));
  }
  logProbPerTask(params: readonly Tensor[], obs: Tensor, actions: Tensor): Tensor {
    return gaussianLogProb(this.distributionPerTask(params, obs), actions);
  }
  klPerTask(paramsOld: readonly Tensor[], paramsNew: readonly Tensor[], obs: Tensor, mask?: Tensor): Tensor {
    return this.tie(paramsNew, this.tie(paramsOld, this.base.klPerTask(this.own(paramsOld), this.own(paramsNew), obs, mask)));
  }
  entropyPerTask(params: readonly Tensor[], obs: Tensor, mask?: Tensor): Tensor {
    return this.tie(params, this.base.entropyPerTask(this.own(params), obs, mask));
  }
  act(params: readonly Float32Array[], obs: Float32Array, n: number, rng: Rng, deterministic?: boolean): ActResult {
    return this.base.act(this.own(params), obs, n, rng, deterministic);
  }
  actWithNoise(params: readonly Float32Array[], obs: Float32Array, n: number, noise: ArrayLike<number>): ActResult {
    return this.base.actWithNoise(this.own(params), obs, n, noise);
  }
  actRows(paramSets: readonly (readonly Float32Array[])[], setOfRow: ArrayLike<number>, obs: Float32Array, n: number, rng: Rng, deterministic?: boolean): ActResult {
    return this.base.actRows(paramSets.map((p) => this.own(p)), setOfRow, obs, n, rng, deterministic);
  }
}

export const isStepSizePolicy = (p: unknown): p is StepSizePolicy => p instanceof StepSizePolicy;

export const stepSizePolicyPlugin: PluginManifest<'policy', StepSizePolicyConfig, Policy> = {
  kind: 'policy',
  name: 'gaussian-mlp-step-sizes',
  version: '1.0.0',
  description: 'Gaussian MLP policy with learned per-step inner step sizes alpha in its parameters (continuous adaptation, Al-Shedivat et al. 2018)',
  configSchema: stepSizePolicyConfig,
  create: (config) => new StepSizePolicy(config),
};
