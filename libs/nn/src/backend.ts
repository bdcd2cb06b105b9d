import { installTransposeFreeMatMul } from './kernels/matmul';
import { tf } from './tf';

export type BackendPreference = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

/** What the process computes with; written into every result. */
export interface BackendInfo {
  /** "tensorflow" (tfjs-node or tfjs-node-gpu), "wasm" or "cpu". */
  readonly name: string;
  /** Which package provided the backend, e.g. "@tensorflow/tfjs-node-gpu". */
  readonly detail: string;
  readonly simd?: boolean;
  readonly threads?: boolean;
}

let chosen: BackendInfo | undefined;

// The native bindings are optional: users install them to use a GPU or native CPU kernels.
const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'];

function tryNative(): string | undefined {
  for (const pkg of NATIVE_PACKAGES) {
    try {
      require(pkg);
      return pkg;
    } catch {
      // not installed: try the next one
    }
  }
  return undefined;
}

/**
 * Chooses the compute backend once per process, best first: tensorflow (if the user
 * installed tfjs-node-gpu or tfjs-node) -> wasm -> cpu. Later calls return the first
 * choice. `log` receives one line saying what was chosen and why.
 *
 * @example
 *   const backend = await initBackend('auto', console.error);  // "backend: wasm (simd, 1 thread)"
 */
export async function initBackend(preference: BackendPreference = 'auto', log?: (line: string) => void): Promise<BackendInfo> {
  if (chosen) return chosen;
  const order: Array<'tensorflow' | 'wasm' | 'cpu'> =
    preference === 'auto' ? ['tensorflow', 'wasm', 'cpu'] : [preference, ...(['wasm', 'cpu'] as const).filter((b) => b !== preference)];
  const notes: string[] = [];
  for (const name of order) {
    let detail = name === 'wasm' ? '@tensorflow/tfjs-backend-wasm' : '@tensorflow/tfjs (cpu)';
    if (name === 'tensorflow') {
      const pkg = tryNative();
      if (!pkg) {
        notes.push('tfjs-node(-gpu) not installed');
        continue;
      }
      detail = pkg;
    }
    try {
      if (await tf.setBackend(name)) {
        await tf.ready();
        if (name === 'wasm') installTransposeFreeMatMul();
        const simd = name === 'wasm' ? Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) : undefined;
        const threads = name === 'wasm' ? Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) : undefined;
        chosen = { name, detail, simd, threads };
        const extra = name === 'wasm' ? ` (simd ${simd ? 'on' : 'off'}, threads ${threads ? 'on' : 'off'})` : '';
        log?.(`backend: ${name} via ${detail}${extra}${notes.length ? `; ${notes.join('; ')}` : ''}`);
        return chosen;
      }
      notes.push(`${name} failed to initialise`);
    } catch (e) {
      notes.push(`${name}: ${(e as Error).message}`);
    }
  }
  throw new Error(`no TensorFlow.js backend could be initialised: ${notes.join('; ')}`);
}

/** The backend chosen by initBackend, if any. */
export const currentBackend = (): BackendInfo | undefined => chosen;
