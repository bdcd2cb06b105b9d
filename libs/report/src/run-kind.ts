import type { EvalReport, PolicyEvalReport } from './types';

/**
 * Supervised runs (few-shot regression/classification: losses, predictions on a grid) and RL
 * runs (episode returns, observation paths) share the folder layout but not the numbers, so
 * the page picks its sections by kind.
 */
export type RunKind = 'supervised' | 'rl';

/** config.json's `kind` decides; runs written before the field existed are supervised. */
export function configKind(config: Record<string, unknown>): RunKind {
  return config['kind'] === 'rl' ? 'rl' : 'supervised';
}

/** A parsed eval.json: exactly one of the two is set. */
export type ParsedEvaluation = { kind: 'supervised'; report: EvalReport } | { kind: 'rl'; report: PolicyEvalReport };

/**
 * Sorts eval.json into a supervised or a policy evaluation. Its own `kind: "rl"` wins; an RL
 * config with an eval.json lacking `kind` is read as RL too (the results then must carry
 * `episodeReturn`). Throws with the reason when the shape does not fit, so load-run can put
 * the reason on the page.
 */
export function parseEvaluation(raw: unknown, kind: RunKind): ParsedEvaluation {
  if (!raw || typeof raw !== 'object') throw new Error('it is not a JSON object');
  const e = raw as Record<string, unknown>;
  const results = e['results'];
  if (!Array.isArray(results)) throw new Error('it has no "results" array');
  if (e['kind'] !== 'rl' && kind !== 'rl') return { kind: 'supervised', report: e as unknown as EvalReport };
  const bad = results.findIndex((r) => !r || !Array.isArray((r as Record<string, unknown>)['episodeReturn']));
  if (bad >= 0) throw new Error(`results[${bad}] has no "episodeReturn" array (an RL evaluation needs one per candidate)`);
  const paths = Array.isArray(e['paths']) ? e['paths'] : [];
  return { kind: 'rl', report: { ...(e as unknown as PolicyEvalReport), kind: 'rl', paths } };
}
