import { z } from 'zod';
import { dim, tf, type FunctionalModel, type Tensor } from '@chameleon/nn';
import type { PluginManifest } from '@chameleon/plugins';
import { sgdAdapt } from '../adapt';
import type { AdaptInput, MetaAlgorithm, MetaGradientInput, MetaGradientOutput } from '../types';

export const reptileConfig = z
  .object({
    /** Train the inner loop on support and query examples together (Nichol et al. 2018 use all of a task's data). Default true. */
    useQueryInInnerLoop: z.boolean().default(true),
  })
  .strict();
export type ReptileConfig = z.infer<typeof reptileConfig>;

/**
 * Reptile (Nichol, Achiam & Schulman 2018): adapt with k SGD steps, then move theta toward
 * the adapted weights. The returned "gradient" is theta - mean_i(phi_i), so plain SGD with
 * step epsilon gives theta <- theta + epsilon (mean phi - theta); Adam on it is the variant
 * the paper also reports.
 */
export class Reptile implements MetaAlgorithm {
  readonly name = 'reptile';

  constructor(readonly config: ReptileConfig = { useQueryInInnerLoop: true }) {}

  paramSpec(model: FunctionalModel) {
    return [...model.spec];
  }

  init(model: FunctionalModel, seed: number) {
    return model.init(seed);
  }

  metaGradient({ model, params, batch, inner, loss }: MetaGradientInput): MetaGradientOutput {
    const both = this.config.useQueryInInnerLoop && dim(batch.queryX, 1) > 0;
    const x = both ? tf.concat([batch.supportX, batch.queryX], 1) : batch.supportX;
    const y = both ? tf.concat([batch.supportY, batch.queryY], 1) : batch.supportY;
    const adapted = sgdAdapt({ model, params, supportX: x, supportY: y, inner, loss });
    const grads = params.map((theta, i) => tf.sub(theta, tf.mean(adapted.phi[i], 0)));
    const steps = dim(adapted.supportLosses, 1);
    // The objective Reptile descends has no closed form; report the post-adaptation training loss.
    const metaLoss = tf.mean(tf.slice(adapted.supportLosses, [0, steps - 1], [-1, 1]));
    return { grads, metaLoss, supportLosses: adapted.supportLosses };
  }

  adapt(input: AdaptInput) {
    return sgdAdapt(input);
  }
}

export const reptilePlugin: PluginManifest<'algorithm', ReptileConfig, MetaAlgorithm> = {
  kind: 'algorithm',
  name: 'reptile',
  version: '1.0.0',
  description: 'Reptile: move theta toward task-adapted weights (Nichol et al. 2018)',
  configSchema: reptileConfig,
  create: (config) => new Reptile(config),
};

export type { Tensor };
