import { Rng, check, invalidArgument, stableStringify } from '@chameleon/core';
import type { PluginRegistry } from '@chameleon/plugins';
import type {
  ActRequest,
  ActResponse,
  AdaptPolicyRequest,
  AdaptPolicyResponse,
  PolicyAdaptation,
  PolicyMetaStepRequest,
  PolicyMetaStepResponse,
  PolicySpec,
} from '@chameleon/proto';
import { adaptWithPolicyRule, advantageConfig, episodeReturns, isPolicyMetaAlgorithm, type InnerAdaptation, type Policy, type PolicyMetaAlgorithm, withInner } from '@chameleon/rl';
import { fromWire, paramsFromWire, paramsToWire, paramValues, toWire } from '@chameleon/tensor';
import { trajectoryBatchFromWire } from '@chameleon/transport';
import { currentBackend } from '@chameleon/nn';

const isPolicy = (p: unknown): p is Policy => !!p && typeof (p as Policy).logProb === 'function' && typeof (p as Policy).act === 'function';

/** The learner's policy side: batched inference, inner adaptation and meta-RL steps. */
export class PolicyHandlers {
  private readonly policies = new Map<string, Policy>();
  private readonly algorithms = new Map<string, PolicyMetaAlgorithm>();

  constructor(private readonly registry: PluginRegistry) {}

  private policy(spec: PolicySpec | undefined): Policy {
    check(spec?.architecture, 'policy.architecture', 'is required (e.g. "gaussian-mlp")');
    const key = stableStringify(spec);
    let p = this.policies.get(key);
    if (!p) {
      const made = this.registry.create<unknown>('policy', spec.architecture, spec.config ?? {}, 'policy.config');
      if (!isPolicy(made)) throw invalidArgument('policy.architecture', `"${spec.architecture}" is not a differentiable policy`);
      p = made;
      if (this.policies.size > 64) this.policies.clear();
      this.policies.set(key, p);
    }
    return p;
  }

  private algorithm(name: string, config: unknown): PolicyMetaAlgorithm {
    const key = stableStringify({ name, config });
    let a = this.algorithms.get(key);
    if (!a) {
      check(name, 'algorithm', 'is required (e.g. "maml-trpo")');
      const made = this.registry.create<unknown>('algorithm', name, config ?? {}, 'algorithm_config');
      if (!isPolicyMetaAlgorithm(made)) throw invalidArgument('algorithm', `"${name}" is not a meta-RL algorithm (try maml-trpo, maml-ppo or trpo)`);
      a = made;
      if (this.algorithms.size > 64) this.algorithms.clear();
      this.algorithms.set(key, a);
    }
    return a;
  }

  private params(policy: Policy, p: Parameters<typeof paramsFromWire>[0], field: string): Float32Array[] {
    const values = paramValues(paramsFromWire(p, field), policy.spec.map((s) => s.name), field);
    values.forEach((v, i) => {
      const n = policy.spec[i].shape.reduce((a, b) => a * b, 1);
      check(v.length === n, `${field}[${i}]`, `${policy.spec[i].name} needs ${n} values, got ${v.length}`);
      for (let j = 0; j < v.length; j++) if (!Number.isFinite(v[j])) throw invalidArgument(`${field}[${i}]`, `${policy.spec[i].name} element ${j} is not finite`);
    });
    return values;
  }

  private inner(a: PolicyAdaptation | undefined): InnerAdaptation {
    check(a, 'adaptation', 'is required (steps, learning_rate, discount, gae_lambda)');
    check(Number.isInteger(a.steps) && a.steps >= 0 && a.steps <= 100, 'adaptation.steps', `must be 0..100, got ${a.steps}`);
    check(Number.isFinite(a.learningRate) && a.learningRate >= 0, 'adaptation.learning_rate', `must be a finite number >= 0, got ${a.learningRate}`);
    check(a.discount >= 0 && a.discount <= 1, 'adaptation.discount', `must be in [0, 1] (0 picks 0.99), got ${a.discount}`);
    check(a.gaeLambda >= 0 && a.gaeLambda <= 1, 'adaptation.gae_lambda', `must be in [0, 1] (0 picks 1), got ${a.gaeLambda}`);
    return { steps: a.steps, learningRate: a.learningRate, discount: a.discount || 0.99, gaeLambda: a.gaeLambda || 1 };
  }

  private batches(policy: Policy, list: AdaptPolicyRequest['trajectories'], field: string) {
    return list.map((b, i) => {
      const batch = trajectoryBatchFromWire(b, `${field}[${i}]`);
      check(batch.observationSize === policy.observationSize, `${field}[${i}].observations`, `have ${batch.observationSize} features; the policy takes ${policy.observationSize}`);
      check(batch.actionSize === policy.actionSize, `${field}[${i}].actions`, `have ${batch.actionSize} dimensions; the policy has ${policy.actionSize}`);
      return batch;
    });
  }

  act(req: ActRequest): ActResponse {
    const policy = this.policy(req.policy);
    const params = this.params(policy, req.params, 'params');
    const obs = fromWire(req.observations, 'observations', ['float32'] as const);
    check(obs.shape.length >= 1 && obs.data.length === obs.shape[0] * policy.observationSize, 'observations', `must have shape [N, ${policy.observationSize}], got [${obs.shape.join(', ')}]`);
    for (let i = 0; i < obs.data.length; i++) if (!Number.isFinite(obs.data[i])) throw invalidArgument('observations', `element ${i} is not finite`);
    const n = obs.shape[0];
    const r = policy.act(params, obs.data, n, Rng.fromKeys('act', req.seed), req.deterministic);
    return { actions: toWire({ dtype: 'float32', shape: [n, policy.actionSize], data: r.actions }), logProbs: toWire({ dtype: 'float32', shape: [n], data: r.logProbs }) };
  }

  /** Adapts per task by the policy's own rule: learned alpha and M steps for "gaussian-mlp-step-sizes", else the request's scalar learning rate. */
  adaptPolicy(req: AdaptPolicyRequest): AdaptPolicyResponse {
    const policy = this.policy(req.policy);
    const inner = this.inner(req.adaptation);
    check(req.trajectories.length > 0, 'trajectories', 'give one batch per task');
    const batches = this.batches(policy, req.trajectories, 'trajectories');
    const advantages = withInner(advantageConfig.parse({}), inner);
    let adapted: Float32Array[][];
    if (req.taskParams.length) {
      check(req.taskParams.length === batches.length, 'task_params', `give one list per task (${batches.length}), got ${req.taskParams.length}`);
      adapted = req.taskParams.map((p, i) => adaptWithPolicyRule(policy, this.params(policy, p, `task_params[${i}]`), [batches[i]], inner, advantages)[0]);
    } else {
      adapted = adaptWithPolicyRule(policy, this.params(policy, req.params, 'params'), batches, inner, advantages);
    }
    const names = policy.spec.map((s) => s.name);
    const shapes = policy.spec.map((s) => [...s.shape]);
    return {
      adapted: adapted.map((a) => paramsToWire(names, shapes, a)),
      returns: batches.map((b) => {
        const r = episodeReturns(b);
        return r.length ? Array.from(r).reduce((x, y) => x + y, 0) / r.length : 0;
      }),
    };
  }

  policyMetaStep(req: PolicyMetaStepRequest): PolicyMetaStepResponse {
    const policy = this.policy(req.policy);
    const algorithm = this.algorithm(req.algorithm, req.algorithmConfig);
    const inner = this.inner(req.adaptation);
    check(req.pre.length > 0, 'pre', 'give one batch per task');
    const pre = this.batches(policy, req.pre, 'pre');
    const post = req.post.length ? this.batches(policy, req.post, 'post') : [];
    if (post.length) check(post.length === pre.length, 'post', `give one batch per task (${pre.length}), got ${post.length}`);
    const theta = this.params(policy, req.params, 'params');
    const r = algorithm.step(policy, theta, pre, post, inner);
    return {
      params: paramsToWire(policy.spec.map((s) => s.name), policy.spec.map((s) => [...s.shape]), r.theta),
      surrogateBefore: r.surrogateBefore,
      surrogateAfter: r.surrogateAfter,
      kl: r.kl,
      lineSearchSteps: r.lineSearchSteps,
      accepted: r.accepted,
      backend: currentBackend()?.name ?? 'unknown',
    };
  }
}
