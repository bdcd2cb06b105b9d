import { z } from 'zod';
import { accuracyPerTask, dim, lossPerTask, tf, type FunctionalModel, type Tensor } from '@chameleon/nn';
import type { PluginManifest } from '@chameleon/plugins';
import { innerStep, sgdAdapt, taskLosses, tileTasks } from '../adapt';
import { fusedMamlApplies, fusedMamlMetaGradient } from '../fast/mlp-maml';
import type { AdaptInput, MetaAlgorithm, MetaGradientInput, MetaGradientOutput } from '../types';

export const mamlConfig = z
  .object({
    /** Drop the second-order terms (first-order MAML, Finn et al. 2017 section 5.2). Default false. */
    firstOrder: z.boolean().default(false),
  })
  .strict();
export type MamlConfig = z.infer<typeof mamlConfig>;

/** Implementation choices that do not change the result (not part of the user config). */
export interface MamlOptions {
  /**
   * Use the fused path (../fast) where it applies: an MLP, one inner step (first or second
   * order). Default true; false forces the generic path, the reference the fused one is
   * tested against.
   */
  readonly fused?: boolean;
}

/**
 * MAML (Finn et al. 2017): theta <- theta - beta * grad_theta sum_i L_query_i(U_i(theta)),
 * U_i = `steps` gradient steps on task i's support set. Second order by default: the outer
 * gradient flows through the inner updates. First-order MAML evaluates the query gradient
 * at the adapted parameters and treats them as constants.
 */
export class Maml implements MetaAlgorithm {
  readonly name: string;

  constructor(
    readonly config: MamlConfig = { firstOrder: false },
    readonly options: MamlOptions = {},
  ) {
    this.name = config.firstOrder ? 'fomaml' : 'maml';
  }

  paramSpec(model: FunctionalModel) {
    return [...model.spec];
  }

  init(model: FunctionalModel, seed: number) {
    return model.init(seed);
  }

  metaGradient(input: MetaGradientInput): MetaGradientOutput {
    const firstOrder = this.config.firstOrder;
    if (this.options.fused !== false && fusedMamlApplies(input)) return fusedMamlMetaGradient(input, firstOrder);
    return firstOrder ? firstOrderMetaGradient(input) : secondOrderMetaGradient(input);
  }

  adapt(input: AdaptInput) {
    return sgdAdapt(input);
  }
}

/**
 * The generic second-order path: adapts inside the outer gradient so it differentiates
 * through the inner steps (any model, any number of steps).
 */
export function secondOrderMetaGradient({ model, params, batch, inner, loss }: MetaGradientInput): MetaGradientOutput {
  const T = dim(batch.supportX, 0);
  const support: Tensor[] = [];
  let accuracy: Tensor | undefined;
  const objective = (...theta: Tensor[]) => {
    let phi = tileTasks(theta, T);
    for (let s = 0; s < inner.steps; s++) {
      const step = innerStep(model, phi, batch.supportX, batch.supportY, loss, inner.learningRate);
      support.push(tf.keep(step.losses));
      phi = step.phi;
    }
    // Not connected to the objective, so the backward pass skips it: forward cost only.
    if (inner.steps > 0) support.push(tf.keep(taskLosses(model, phi, batch.supportX, batch.supportY, loss)));
    const out = model.forwardPerTask(phi, batch.queryX);
    if (loss === 'cross-entropy') accuracy = tf.keep(tf.mean(accuracyPerTask(out, batch.queryY)));
    return tf.mean(lossPerTask(loss, out, batch.queryY)) as tf.Scalar;
  };
  const { value, grads } = tf.valueAndGrads(objective)([...params]);
  return finish(value, grads, support, accuracy, () => taskLosses(model, tileTasks(params, T), batch.supportX, batch.supportY, loss));
}

/** Adapts outside any gradient tape, then takes the query gradient at the adapted parameters. */
export function firstOrderMetaGradient({ model, params, batch, inner, loss }: MetaGradientInput): MetaGradientOutput {
  const adapted = sgdAdapt({ model, params, supportX: batch.supportX, supportY: batch.supportY, inner, loss });
  let accuracy: Tensor | undefined;
  const { value, grads } = tf.valueAndGrads((...phi: Tensor[]) => {
    const out = model.forwardPerTask(phi, batch.queryX);
    if (loss === 'cross-entropy') accuracy = tf.keep(tf.mean(accuracyPerTask(out, batch.queryY)));
    // Sum over tasks, then divide: the per-task gradients summed over the task axis below
    // equal the gradient of the mean query loss.
    return tf.mean(lossPerTask(loss, out, batch.queryY)) as tf.Scalar;
  })(adapted.phi);
  const metaGrads = grads.map((g) => tf.sum(g, 0));
  return { grads: metaGrads, metaLoss: value, supportLosses: adapted.supportLosses, metaAccuracy: accuracy };
}

function finish(
  value: Tensor,
  grads: Tensor[],
  support: Tensor[],
  accuracy: Tensor | undefined,
  supportLossAtTheta: () => Tensor,
): MetaGradientOutput {
  // With zero inner steps there is no support loss trace yet: record the loss at theta.
  const columns = support.length ? support : [supportLossAtTheta()];
  const supportLosses = tf.stack(columns, 1);
  for (const t of support) t.dispose();
  return { grads, metaLoss: value, supportLosses, metaAccuracy: accuracy };
}

export const mamlPlugin: PluginManifest<'algorithm', MamlConfig, MetaAlgorithm> = {
  kind: 'algorithm',
  name: 'maml',
  version: '1.0.0',
  description: 'Model-agnostic meta-learning, second order (Finn et al. 2017)',
  configSchema: mamlConfig,
  create: (config) => new Maml(config),
};

export const fomamlPlugin: PluginManifest<'algorithm', Record<string, never>, MetaAlgorithm> = {
  kind: 'algorithm',
  name: 'fomaml',
  version: '1.0.0',
  description: 'First-order MAML: query gradient at the adapted parameters (Finn et al. 2017)',
  configSchema: z.object({}).strict() as unknown as z.ZodType<Record<string, never>>,
  create: () => new Maml({ firstOrder: true }),
};
