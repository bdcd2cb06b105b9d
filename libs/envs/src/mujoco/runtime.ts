import { ChameleonError, failedPrecondition, invalidArgument } from '@chameleon/core';
import type { MainModule, MjModel } from 'mujoco-js';

/**
 * The MuJoCo WebAssembly runtime (npm `mujoco-js`, MuJoCo 3.3.x), loaded once per process.
 *
 * Loading is asynchronous (the module instantiates an embedded .wasm), but
 * `SequentialEnvironment.createWorld()` is synchronous. So: `await ensureMujoco()` once, early
 * (a simulator service's `main`, a test's `beforeAll`, a benchmark's start); afterwards every
 * MuJoCo environment creates worlds synchronously. Creating a world before that throws
 * FAILED_PRECONDITION naming `ensureMujoco`.
 *
 * @example
 *   await ensureMujoco();
 *   const env = halfCheetahVelEnvPlugin.create(halfCheetahEnvConfig.parse({}));
 *   const worlds = new VectorEnv(env, 20, tasks, seed);
 */
export type Mujoco = MainModule;

let loaded: Mujoco | undefined;
let loading: Promise<Mujoco> | undefined;
/** Lines MuJoCo printed while a model was compiling (its loader reports errors by printing). */
let captured: string[] | undefined;

function onPrint(line: string): void {
  if (captured) captured.push(line);
  // MuJoCo prints its warnings (e.g. unstable simulation); surface them rather than drop them.
  else console.warn(`[mujoco] ${line}`);
}

/**
 * Why the native require: `mujoco-js` is an ES module and this repository is CommonJS. Node
 * >= 20.19 / 22.12 can `require()` an ES module without top-level await, but test runners
 * (jest) replace the module-local `require` with a sandboxed loader that cannot evaluate ES
 * modules; `process.getBuiltinModule` hands us Node's own loader in every setting. Older Node
 * versions fall back to a real dynamic `import()` (hidden from the CommonJS transpiler).
 */
async function importFactory(): Promise<(arg?: unknown) => Promise<Mujoco>> {
  const nodeModule = process.getBuiltinModule?.('node:module') as typeof import('node:module') | undefined;
  let mod: { default: (arg?: unknown) => Promise<Mujoco> };
  try {
    if (!nodeModule) throw Object.assign(new Error('no process.getBuiltinModule'), { code: 'ERR_REQUIRE_ESM' });
    mod = nodeModule.createRequire(__filename)('mujoco-js');
  } catch (e) {
    if ((e as { code?: string }).code !== 'ERR_REQUIRE_ESM') throw e;
    mod = await (new Function('s', 'return import(s)') as (s: string) => Promise<typeof mod>)('mujoco-js');
  }
  return mod.default;
}

/** Loads the MuJoCo module if it is not loaded yet; concurrent callers share one load. */
export function ensureMujoco(): Promise<Mujoco> {
  if (loaded) return Promise.resolve(loaded);
  loading ??= importFactory()
    .then((factory) => factory({ print: onPrint, printErr: onPrint }))
    .then((m) => {
      m.FS.mkdirTree(MODEL_DIR, 0o777);
      heapProbe = compile(m, '<mujoco model="heap-probe"/>');
      loaded = m;
      return m;
    })
    .catch((e: unknown) => {
      loading = undefined;
      throw new ChameleonError('UNAVAILABLE', `could not load the MuJoCo WebAssembly module (npm mujoco-js): ${String(e)}`);
    });
  return loading;
}

export const isMujocoLoaded = (): boolean => loaded !== undefined;

/** The loaded module; throws FAILED_PRECONDITION if `ensureMujoco()` has not completed. */
export function mujoco(): Mujoco {
  if (!loaded) {
    throw failedPrecondition('MuJoCo is not loaded: call `await ensureMujoco()` (from @chameleon/envs) once per process before creating MuJoCo worlds');
  }
  return loaded;
}

const MODEL_DIR = '/chameleon/mjcf';

interface CachedModel {
  readonly model: MjModel;
  users: number;
}
const models = new Map<string, CachedModel>();
let fileCounter = 0;

/**
 * The compiled model of an MJCF document, compiled once per distinct string and shared by
 * every world that uses it (an MjModel is read-only while stepping). Pair each call with
 * {@link releaseModel}; models nobody uses stay cached until {@link releaseUnusedModels}.
 */
export function acquireModel(xml: string): MjModel {
  const hit = models.get(xml);
  if (hit) {
    hit.users++;
    return hit.model;
  }
  const model = compile(mujoco(), xml);
  models.set(xml, { model, users: 1 });
  return model;
}

export function releaseModel(xml: string): void {
  const hit = models.get(xml);
  if (hit && hit.users > 0) hit.users--;
}

/** Frees the wasm memory of cached models no world uses; returns how many were freed. */
export function releaseUnusedModels(): number {
  let freed = 0;
  for (const [xml, m] of models) {
    if (m.users > 0) continue;
    m.model.delete();
    models.delete(xml);
    freed++;
  }
  return freed;
}

export const cachedModelCount = (): number => models.size;

/** Compiles through the virtual file system: the only XML entry point of the wasm build. */
function compile(mj: Mujoco, xml: string): MjModel {
  const path = `${MODEL_DIR}/model-${++fileCounter}.xml`;
  captured = [];
  let model: MjModel | null = null;
  let failure = '';
  try {
    mj.FS.writeFile(path, xml);
    model = mj.MjModel.loadFromXML(path);
  } catch (e) {
    failure = compilerMessage(e);
  } finally {
    const lines = captured;
    captured = undefined;
    if (mj.FS.analyzePath(path, false).exists) mj.FS.unlink(path);
    failure = [failure, ...lines].filter(Boolean).join('; ');
  }
  if (!model) throw invalidArgument('mjcf', `MuJoCo could not compile the model: ${failure || 'no reason given'}`);
  return model;
}

/** A trivial model kept for its array views, our only handle on the wasm heap. */
let heapProbe: MjModel | undefined;

/**
 * The compiler throws its C++ error objects (mjXError, mjCError) into JS as an emscripten
 * CppException whose `message` is empty: they are not std::exceptions. Both start with their
 * message text, so we read it from the wasm heap (reached through a model's array view, as the
 * runtime does not export the heap), at once, before anything else allocates. The runtime has
 * already released the exception (decrementing its count again aborts the module).
 */
function compilerMessage(e: unknown): string {
  const ex = e as { name?: string; message?: string; excPtr?: number };
  let text = ex.message ?? '';
  if (!text && typeof ex.excPtr === 'number') {
    try {
      const heap = new Uint8Array((heapProbe?.body_mass as Float64Array).buffer);
      let end = ex.excPtr;
      while (end < heap.length && heap[end] !== 0 && end - ex.excPtr < 2000) end++;
      text = Buffer.from(heap.subarray(ex.excPtr, end)).toString('utf8').trim().replace(/\s*\n\s*/g, ' ');
      if (!/^[\x20-\x7e]*$/.test(text)) text = ''; // not a message after all: say nothing rather than garbage
    } catch {
      text = '';
    }
  }
  return [ex.name, text].filter(Boolean).join(': ') || String(e);
}
