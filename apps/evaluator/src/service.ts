import type { PluginRegistry } from '@chameleon/plugins';
import { EvaluatorServiceService, type EvaluateRequest, type EvaluateResponse } from '@chameleon/proto';
import { unary, type HostedService, type Peers } from '@chameleon/transport';
import { evaluate } from './evaluate';

/** The evaluator: held-out metrics per adaptation step for candidates and baselines. */
export function evaluatorService(peers: Peers, registry: PluginRegistry): HostedService {
  return {
    name: 'chameleon.v1.EvaluatorService',
    definition: EvaluatorServiceService,
    implementation: {
      evaluate: unary<EvaluateRequest, EvaluateResponse>('Evaluator.Evaluate', (req, ctx) => evaluate(req, peers, registry, ctx)),
    },
  };
}
