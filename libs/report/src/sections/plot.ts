import type { VegaLiteSpec } from '../render';

/** Renders a spec into a named figure; a failed plot becomes an error box, not a failed page. */
export type PlotFn = (name: string, spec: VegaLiteSpec, caption?: string) => Promise<string>;
