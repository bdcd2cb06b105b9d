import { z } from 'zod';
import { dim, lossPerTask, tf, type FunctionalModel, type Tensor } from '@chameleon/nn';
import type { PluginManifest } from '@chameleon/plugins';
import { sgdAdapt } from '../adapt';
import type { AdaptInput, MetaAlgorithm, MetaGradientInput, MetaGradientOutput } from '../types';

/**
 * The "pretrained" baseline of the MAML paper: one network trained on all tasks jointly
 * (no adaptation in training), later fine-tuned on each new task like MAML's init.
 */
export class Pretrain implements MetaAlgorithm {
  readonly name = 'pretrain';

  paramSpec(model: FunctionalModel) {
    return [...model.spec];
  }

  init(model: FunctionalModel, seed: number) {
    return model.init(seed);
  }

  metaGradient({ model, params, batch, loss }: MetaGradientInput): MetaGradientOutput {
    const x = tf.concat([batch.supportX, batch.queryX], 1);
    const y = tf.concat([batch.supportY, batch.queryY], 1);
    const T = dim(x, 0);
    const N = dim(x, 1);
    // Shared weights: fold tasks into the example axis and use the unbatched forward pass.
    const flatX = tf.reshape(x, [T * N, ...(x.shape as number[]).slice(2)]);
    let perTask: Tensor | undefined;
    const { value, grads } = tf.valueAndGrads((...theta: Tensor[]) => {
      const out = model.forward(theta, flatX);
      perTask = tf.keep(lossPerTask(loss, tf.reshape(out, [T, N, ...(out.shape as number[]).slice(1)]), y));
      return tf.mean(perTask) as tf.Scalar;
    })([...params]);
    const supportLosses = tf.reshape(perTask!, [T, 1]);
    perTask!.dispose();
    return { grads, metaLoss: value, supportLosses };
  }

  adapt(input: AdaptInput) {
    return sgdAdapt(input);
  }
}

export const pretrainPlugin: PluginManifest<'algorithm', Record<string, never>, MetaAlgorithm> = {
  kind: 'algorithm',
  name: 'pretrain',
  version: '1.0.0',
  description: 'Joint training on all tasks (the pretrained baseline of Finn et al. 2017)',
  configSchema: z.object({}).strict() as unknown as z.ZodType<Record<string, never>>,
  create: () => new Pretrain(),
};
