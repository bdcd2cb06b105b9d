/**
 * Source of the worker thread that owns vega and vega-lite.
 *
 * Why a worker: vega 6 is ESM-only with top-level await, so CommonJS code (this repo under
 * swc) can neither `require()` it nor use a compiled `import()` (swc rewrites it to require),
 * and inside jest's vm sandbox a real `import()` needs --experimental-vm-modules. A worker
 * thread is a plain Node realm: its `import()` always works, under jest or not, with no flag
 * and no compiler setting. The code is a string (eval worker) so no .mjs file has to travel
 * with the sources; it receives absolute paths to the two packages' ESM entry points and to
 * every copy of vega-scenegraph (see scenegraph-copies.ts).
 *
 * Protocol: in `{ id, spec }` (a vega-lite spec), out `{ id, svg }` or `{ id, error }`.
 */
export const VEGA_WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { pathToFileURL } = require('node:url');
const libs = Promise.all([
  import(pathToFileURL(workerData.vega).href),
  import(pathToFileURL(workerData.vegaLite).href),
]);
// Without a canvas vega guesses every glyph at 0.8 em, so titles and legends get room for
// text far wider than it is drawn. Measure with Helvetica/Arial advance widths instead.
const ADVANCE = [278,278,355,556,556,889,667,191,333,333,389,584,278,333,278,278,556,556,556,556,556,556,556,556,556,556,278,278,584,584,584,556,1015,667,667,722,722,667,611,778,722,278,500,667,556,833,722,778,667,778,722,667,611,722,667,944,667,667,611,278,278,278,469,556,333,556,556,500,556,556,278,556,556,222,222,500,222,833,556,556,556,556,333,500,278,556,500,722,500,500,500,334,260,334,584];
function textWidth(item, text) {
  const value = Array.isArray(text) ? text.join(' ') : String(text == null ? '' : text).trim();
  const size = item.fontSize != null ? +item.fontSize || 0 : 11;
  let em = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    em += c >= 32 && c <= 126 ? ADVANCE[c - 32] : c === 0xa0 ? 278 : 600;
  }
  const bold = item.fontWeight === 'bold' || +item.fontWeight >= 600 ? 1.07 : 1;
  const width = (em / 1000) * size * bold;
  return item.limit > 0 ? Math.min(width, +item.limit) : width;
}
const ready = Promise.all([libs, ...workerData.scenegraphs.map((p) => import(pathToFileURL(p).href))]).then(([pair, ...copies]) => {
  for (const scenegraph of copies) scenegraph.textMetrics.width = textWidth;
  return pair;
});
parentPort.on('message', async ({ id, spec }) => {
  try {
    const [vega, vl] = await ready;
    const warnings = [];
    const logger = vega.logger(vega.Warn);
    logger.warn = (...args) => { warnings.push(args.join(' ')); return logger; };
    const compiled = vl.compile(spec, { logger }).spec;
    const view = new vega.View(vega.parse(compiled), { renderer: 'none', logger });
    const svg = await view.toSVG();
    view.finalize();
    parentPort.postMessage({ id, svg, warnings });
  } catch (e) {
    parentPort.postMessage({ id, error: (e && e.message) || String(e) });
  }
});
`;
