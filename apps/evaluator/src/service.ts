import type { PluginRegistry } from '@chameleon/plugins';
import { EvaluatorServiceService, type EvaluatePolicyRequest, type EvaluatePolicyResponse, type EvaluateRequest, type EvaluateResponse } from '@chameleon/proto';
import { unary, type HostedService, type Peers } from '@chameleon/transport';
import { evaluate } from './evaluate';
import { evaluatePolicy } from './evaluate-policy';

/** The evaluator: held-out metrics per adaptation step for candidates and baselines. */
export function evaluatorService(peers: Peers, registry: PluginRegistry): HostedService {
  return {
    name: 'chameleon.v1.EvaluatorService',
    definition: EvaluatorServiceService,
    implementation: {
      evaluate: unary<EvaluateRequest, EvaluateResponse>('Evaluator.Evaluate', (req, ctx) => evaluate(req, peers, registry, ctx)),
      evaluatePolicy: unary<EvaluatePolicyRequest, EvaluatePolicyResponse>('Evaluator.EvaluatePolicy', (req, ctx) => evaluatePolicy(req, peers, ctx)),
    },
  };
}
