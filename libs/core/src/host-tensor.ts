import { invalidArgument } from './errors';

/** Element types a host tensor can hold (mirrors the contract's DataType). */
export type DType = 'float32' | 'int32' | 'uint8' | 'bool' | 'float64';

export type TypedArrayOf<D extends DType> = D extends 'float32'
  ? Float32Array
  : D extends 'int32'
    ? Int32Array
    : D extends 'float64'
      ? Float64Array
      : Uint8Array;

/**
 * A dense row-major tensor in host memory. The neutral currency between the domain
 * libraries, the compute backend and the wire format.
 */
export interface HostTensor<D extends DType = DType> {
  readonly dtype: D;
  readonly shape: readonly number[];
  readonly data: TypedArrayOf<D>;
}

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export const BYTES_PER_ELEMENT: Record<DType, number> = { float32: 4, int32: 4, uint8: 1, bool: 1, float64: 8 };

/** Builds a host tensor, checking that data length matches the shape. */
export function hostTensor<D extends DType>(dtype: D, shape: readonly number[], data: TypedArrayOf<D>): HostTensor<D> {
  if (data.length !== sizeOf(shape)) {
    throw invalidArgument('tensor', `shape [${shape.join(', ')}] needs ${sizeOf(shape)} elements, got ${data.length}`);
  }
  return { dtype, shape: [...shape], data };
}

export const float32 = (shape: readonly number[], data?: ArrayLike<number>): HostTensor<'float32'> =>
  hostTensor('float32', shape, data ? Float32Array.from(data) : new Float32Array(sizeOf(shape)));

export const int32 = (shape: readonly number[], data?: ArrayLike<number>): HostTensor<'int32'> =>
  hostTensor('int32', shape, data ? Int32Array.from(data) : new Int32Array(sizeOf(shape)));

/** A named tensor: one entry of an ordered parameter list. */
export interface NamedHostTensor {
  readonly name: string;
  readonly tensor: HostTensor<'float32'>;
}

/** True when every element is finite (no NaN, no Inf). */
export function allFinite(t: HostTensor): boolean {
  const d = t.data;
  for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i])) return false;
  return true;
}
