/**
 * @chameleon/report: a training run folder in, one self-contained report.html out.
 *
 * @example
 *   import { buildReport } from '@chameleon/report';
 *   const path = await buildReport('runs/maml-sinusoid'); // runs/maml-sinusoid/report.html
 */
export { buildReport, REPORT_FILE } from './build-report';
export type { BuildReportOptions } from './build-report';
export { loadRun, RUN_FILES } from './load-run';
export type { RunData } from './load-run';
export { renderSvg, closeRenderer, sharedRenderer, SvgRenderer } from './render';
export type { VegaLiteSpec } from './render';
export { readJsonl, forEachJsonl } from './jsonl';
export type { JsonlStats } from './jsonl';
export { downsample } from './downsample';
export { summariseMetrics, MAX_PLOT_POINTS } from './metrics';
export type { MetricsSummary, ProgressRow } from './metrics';
export { selectWaterfallTrace, pickTrace, toWaterfall, META_ITERATION_SPAN, MAX_WATERFALL_SPANS } from './traces';
export type { SelectedTrace, TraceCandidate, WaterfallSpan } from './traces';
export { lossCurveSpec } from './specs/loss-curve';
export type { LossPoint } from './specs/loss-curve';
export { throughputSpec } from './specs/throughput';
export { validationSpec } from './specs/validation';
export { adaptationSpec } from './specs/adaptation';
export { examplesSpec, exampleCurves, curveKeys, MAX_EXAMPLES } from './specs/examples';
export { returnCurveSpec, RETURN_SERIES } from './specs/return-curve';
export type { ReturnPoint } from './specs/return-curve';
export { returnAdaptationSpec, isReference, referenceLabel, ORACLE } from './specs/return-adaptation';
export { pathsSpec, pathsUnplottable, PLANAR_FAMILIES, MAX_PATH_TASKS } from './specs/paths';
export { viewExtent, MIN_EXTENT, FRAME_QUANTILE } from './specs/path-frame';
export type { PathFrame } from './specs/path-frame';
export { configKind, parseEvaluation } from './run-kind';
export type { RunKind } from './run-kind';
export { waterfallSpec } from './specs/waterfall';
export { formatMeanCi, formatNumber, formatDuration } from './format';
export * from './types';
export * from './play-report';
