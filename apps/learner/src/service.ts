import { check, invalidArgument, stableStringify } from '@chameleon/core';
import { adaptHost, metaGradientHost, MIB, PassPlanner, predictHost, type MetaAlgorithm, type MetaGradientOptions } from '@chameleon/meta';
import { currentBackend, type FunctionalModel, type LossName } from '@chameleon/nn';
import type { PluginRegistry } from '@chameleon/plugins';
import {
  LearnerServiceService,
  LossKind,
  type ActRequest,
  type ActResponse,
  type AdaptPolicyRequest,
  type AdaptPolicyResponse,
  type PolicyMetaStepRequest,
  type PolicyMetaStepResponse,
  type AdaptRequest,
  type AdaptResponse,
  type DescribeRequest,
  type DescribeResponse,
  type InnerLoop,
  type MetaGradientRequest,
  type MetaGradientResponse,
  type ModelSpec,
  type PredictRequest,
  type PredictResponse,
} from '@chameleon/proto';
import { fromWire, optionalFromWire, paramsFromWire, paramsToWire, paramValues, toWire } from '@chameleon/tensor';
import { batchFromWire, unary, type HostedService } from '@chameleon/transport';
import { PolicyHandlers } from './policy-handlers';

const lossName = (k: LossKind): LossName | undefined =>
  k === LossKind.LOSS_KIND_MSE ? 'mse' : k === LossKind.LOSS_KIND_CROSS_ENTROPY ? 'cross-entropy' : undefined;

function innerFrom(inner: InnerLoop | undefined) {
  check(inner, 'inner', 'is required (steps and learning_rate)');
  return { steps: inner.steps, learningRate: inner.learningRate };
}

/** Builds models and algorithms from their specs, caching by configuration. */
class Builders {
  private readonly models = new Map<string, FunctionalModel>();
  private readonly algorithms = new Map<string, MetaAlgorithm>();

  constructor(private readonly registry: PluginRegistry) {}

  model(spec: ModelSpec | undefined): FunctionalModel {
    check(spec && spec.architecture, 'model.architecture', 'is required (e.g. "mlp")');
    const key = stableStringify({ a: spec.architecture, c: spec.config ?? {} });
    let m = this.models.get(key);
    if (!m) {
      m = this.registry.create<FunctionalModel>('model', spec.architecture, spec.config ?? {}, 'model.config');
      if (this.models.size > 64) this.models.clear();
      this.models.set(key, m);
    }
    return m;
  }

  algorithm(name: string, config: unknown): MetaAlgorithm {
    const key = stableStringify({ n: name || 'maml', c: config ?? {} });
    let a = this.algorithms.get(key);
    if (!a) {
      a = this.registry.create<MetaAlgorithm>('algorithm', name || 'maml', config ?? {}, 'algorithm_config');
      if (typeof a.metaGradient !== 'function') throw invalidArgument('algorithm', `"${name}" is a meta-RL algorithm; use PolicyMetaStep`);
      if (this.algorithms.size > 64) this.algorithms.clear();
      this.algorithms.set(key, a);
    }
    return a;
  }
}

/**
 * The learner: inner loops and meta-gradients on the compute backend. Stateless per
 * request, so any replica can serve any call.
 */
export interface LearnerOptions {
  /** MetaGradient: tasks per autodiff pass; 0 (default): automatic, as many as fit passMemoryMb. */
  readonly tasksPerPass?: number;
  /** Automatic mode's budget of one pass's tensors, MiB. Default DEFAULT_PASS_MEMORY_MB (2048). */
  readonly passMemoryMb?: number;
}

export function learnerService(registry: PluginRegistry, options: LearnerOptions = {}): HostedService {
  const build = new Builders(registry);
  const passes: MetaGradientOptions = {
    tasksPerPass: options.tasksPerPass ?? 0,
    planner: new PassPlanner({ budgetBytes: options.passMemoryMb === undefined ? undefined : options.passMemoryMb * MIB }),
  };
  const policies = new PolicyHandlers(registry);
  const backend = () => currentBackend()?.name ?? 'unknown';
  return {
    name: 'chameleon.v1.LearnerService',
    definition: LearnerServiceService,
    implementation: {
      metaGradient: unary<MetaGradientRequest, MetaGradientResponse>('Learner.MetaGradient', (req) => {
        const model = build.model(req.model);
        const algorithm = build.algorithm(req.algorithm, req.algorithmConfig);
        const spec = algorithm.paramSpec(model);
        const params = paramValues(paramsFromWire(req.params), spec.map((p) => p.name));
        const r = metaGradientHost(algorithm, model, params, batchFromWire(req.batch), innerFrom(req.inner), lossName(req.loss), passes);
        return {
          gradient: paramsToWire(spec.map((p) => p.name), spec.map((p) => p.shape), r.grads),
          metaLoss: r.metaLoss,
          supportLosses: toWire(r.supportLosses),
          metaAccuracy: r.metaAccuracy,
          backend: backend(),
        };
      }),
      adapt: unary<AdaptRequest, AdaptResponse>('Learner.Adapt', (req) => {
        const model = build.model(req.model);
        const algorithm = build.algorithm(req.algorithm, req.algorithmConfig);
        const spec = algorithm.paramSpec(model);
        const params = paramValues(paramsFromWire(req.params), spec.map((p) => p.name));
        const qx = optionalFromWire(req.queryInputs, 'query_inputs', ['float32'] as const);
        const qy = optionalFromWire(req.queryTargets, 'query_targets', ['float32', 'int32'] as const);
        check(!qx === !qy, qx ? 'query_targets' : 'query_inputs', 'query_inputs and query_targets must be given together');
        const r = adaptHost(
          algorithm,
          model,
          params,
          { x: fromWire(req.supportInputs, 'support_inputs', ['float32'] as const), y: fromWire(req.supportTargets, 'support_targets', ['float32', 'int32'] as const) },
          innerFrom(req.inner),
          {
            query: qx && qy ? { x: qx, y: qy } : undefined,
            predictX: optionalFromWire(req.predictionInputs, 'prediction_inputs', ['float32'] as const),
            returnParams: req.returnParameters,
            loss: lossName(req.loss),
          },
        );
        const T = r.supportLosses.shape[0];
        return {
          adapted: r.phi ? paramsToWire(model.spec.map((p) => p.name), model.spec.map((p) => [T, ...p.shape]), r.phi) : undefined,
          supportLosses: toWire(r.supportLosses),
          queryLosses: r.queryLosses ? toWire(r.queryLosses) : undefined,
          queryAccuracies: r.queryAccuracies ? toWire(r.queryAccuracies) : undefined,
          predictions: r.predictions ? toWire(r.predictions) : undefined,
        };
      }),
      predict: unary<PredictRequest, PredictResponse>('Learner.Predict', (req) => {
        const model = build.model(req.model);
        const params = paramValues(paramsFromWire(req.params), model.spec.map((p) => p.name));
        const y = predictHost(model, params, fromWire(req.inputs, 'inputs', ['float32'] as const), req.perTask);
        return { outputs: toWire(y) };
      }),
      act: unary<ActRequest, ActResponse>('Learner.Act', (req) => policies.act(req)),
      adaptPolicy: unary<AdaptPolicyRequest, AdaptPolicyResponse>('Learner.AdaptPolicy', (req) => policies.adaptPolicy(req)),
      policyMetaStep: unary<PolicyMetaStepRequest, PolicyMetaStepResponse>('Learner.PolicyMetaStep', (req) => policies.policyMetaStep(req)),
      describe: unary<DescribeRequest, DescribeResponse>('Learner.Describe', () => ({
        backend: backend(),
        algorithms: registry.names('algorithm'),
        models: registry.names('model'),
      })),
    },
  };
}
