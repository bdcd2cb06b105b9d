import { Worker } from 'node:worker_threads';
import { findScenegraphCopies } from './scenegraph-copies';
import { VEGA_WORKER_SOURCE } from './vega-worker-source';

/** A vega-lite specification (kept loose: vega-lite's own types are ESM-only). */
export type VegaLiteSpec = Record<string, unknown>;

interface Pending {
  resolve: (svg: string) => void;
  reject: (e: Error) => void;
}

/**
 * Renders vega-lite specs to SVG strings in one worker thread (see vega-worker-source.ts for
 * why). The worker starts on first use (about 0.5 s to load vega) and is referenced only
 * while a render is pending, so an idle renderer never keeps the process alive.
 */
export class SvgRenderer {
  private worker?: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  /** vega / vega-lite warnings from every render so far (a clean spec produces none). */
  readonly warnings: string[] = [];

  render(spec: VegaLiteSpec): Promise<string> {
    const worker = this.start();
    const id = this.nextId++;
    return new Promise<string>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ id, spec });
    });
  }

  /** Stops the worker; pending renders fail. The next render starts a new one. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const vegaEntry = require.resolve('vega');
    const worker = new Worker(VEGA_WORKER_SOURCE, {
      eval: true,
      workerData: { vega: vegaEntry, vegaLite: require.resolve('vega-lite'), scenegraphs: findScenegraphCopies(vegaEntry) },
    });
    worker.on('message', (m: { id: number; svg?: string; error?: string; warnings?: string[] }) => {
      if (m.warnings) this.warnings.push(...m.warnings);
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) worker.unref();
      if (m.svg !== undefined) p.resolve(m.svg);
      else p.reject(new Error(`vega could not render the plot: ${m.error}`));
    });
    const failAll = (e: Error) => {
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
      if (this.worker === worker) this.worker = undefined;
    };
    worker.on('error', (e) => failAll(new Error(`vega worker failed: ${e.message}`)));
    worker.on('exit', (code) => failAll(new Error(`vega worker exited (code ${code})`)));
    worker.unref();
    this.worker = worker;
    return worker;
  }
}

const shared = new SvgRenderer();

/**
 * Renders one vega-lite spec to a standalone SVG string (no canvas, no browser, no network).
 *
 * @example
 *   const svg = await renderSvg(lossCurveSpec(points));
 */
export function renderSvg(spec: VegaLiteSpec): Promise<string> {
  return shared.render(spec);
}

/** Stops the shared renderer's worker (tests call it in afterAll; scripts need not). */
export function closeRenderer(): Promise<void> {
  return shared.close();
}

/** The renderer behind renderSvg, e.g. to read its warnings. */
export function sharedRenderer(): SvgRenderer {
  return shared;
}
