import { endianness } from 'node:os';
import { BYTES_PER_ELEMENT, invalidArgument, resourceExhausted, sizeOf, type DType, type HostTensor, type TypedArrayOf } from '@chameleon/core';
import { DataType, type Tensor } from '@chameleon/proto';

// Tensors travel as little-endian bytes and are viewed in place on the host.
if (endianness() !== 'LE') throw new Error('Chameleon needs a little-endian host: tensors travel as little-endian bytes');

/** Largest tensor accepted from the wire: 256M elements (1 GiB of float32). */
export const MAX_TENSOR_ELEMENTS = 256 * 1024 * 1024;

const FROM_WIRE: Partial<Record<DataType, DType>> = {
  [DataType.DATA_TYPE_FLOAT32]: 'float32',
  [DataType.DATA_TYPE_INT32]: 'int32',
  [DataType.DATA_TYPE_UINT8]: 'uint8',
  [DataType.DATA_TYPE_BOOL]: 'bool',
  [DataType.DATA_TYPE_FLOAT64]: 'float64',
};

const TO_WIRE: Record<DType, DataType> = {
  float32: DataType.DATA_TYPE_FLOAT32,
  int32: DataType.DATA_TYPE_INT32,
  uint8: DataType.DATA_TYPE_UINT8,
  bool: DataType.DATA_TYPE_BOOL,
  float64: DataType.DATA_TYPE_FLOAT64,
};

export const toWireDType = (d: DType): DataType => TO_WIRE[d];

function view(dtype: DType, bytes: Uint8Array, n: number): HostTensor['data'] {
  const size = BYTES_PER_ELEMENT[dtype];
  // Typed-array views need an aligned offset; copy only when the decoder's buffer is not.
  const aligned = bytes.byteOffset % size === 0 ? bytes : new Uint8Array(bytes);
  switch (dtype) {
    case 'float32':
      return new Float32Array(aligned.buffer, aligned.byteOffset, n);
    case 'int32':
      return new Int32Array(aligned.buffer, aligned.byteOffset, n);
    case 'float64':
      return new Float64Array(aligned.buffer, aligned.byteOffset, n);
    default:
      return new Uint8Array(aligned.buffer, aligned.byteOffset, n);
  }
}

/**
 * A wire tensor as a host tensor, validated: known dtype, non-negative shape, byte
 * length matching the shape. Errors name `field`.
 *
 * @example
 *   const x = fromWire(request.supportInputs, 'support_inputs', ['float32']);
 */
export function fromWire<D extends DType = DType>(t: Tensor | undefined, field: string, allowed?: readonly D[]): HostTensor<D> {
  if (!t) throw invalidArgument(field, 'is required');
  const dtype = FROM_WIRE[t.dtype];
  if (!dtype) throw invalidArgument(`${field}.dtype`, `must be set to a known DataType, got ${t.dtype}`);
  if (allowed && !allowed.includes(dtype as D)) throw invalidArgument(`${field}.dtype`, `must be ${allowed.join(' or ')}, got ${dtype}`);
  const shape = t.shape;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw invalidArgument(`${field}.shape`, `dimensions must be integers >= 0, got [${shape.join(', ')}]`);
  }
  const n = sizeOf(shape);
  if (n > MAX_TENSOR_ELEMENTS) throw resourceExhausted(`${field}.shape`, `[${shape.join(', ')}] has ${n} elements, more than ${MAX_TENSOR_ELEMENTS}`);
  const want = n * BYTES_PER_ELEMENT[dtype];
  const bytes = t.data ?? new Uint8Array(0);
  if (bytes.byteLength !== want) {
    throw invalidArgument(`${field}.data`, `shape [${shape.join(', ')}] of ${dtype} needs ${want} bytes, got ${bytes.byteLength}`);
  }
  return { dtype: dtype as D, shape: [...shape], data: view(dtype, bytes, n) as TypedArrayOf<D> };
}

/** An optional wire tensor: undefined when absent or empty-shaped with no data. */
export function optionalFromWire<D extends DType = DType>(t: Tensor | undefined, field: string, allowed?: readonly D[]): HostTensor<D> | undefined {
  if (!t || (t.dtype === DataType.DATA_TYPE_UNSPECIFIED && t.shape.length === 0 && (!t.data || t.data.byteLength === 0))) return undefined;
  return fromWire(t, field, allowed);
}

/** A host tensor as a wire tensor. The bytes are a view of the host data (no copy). */
export function toWire(t: HostTensor): Tensor {
  const d = t.data;
  return { dtype: TO_WIRE[t.dtype], shape: [...t.shape], data: Buffer.from(d.buffer, d.byteOffset, d.byteLength) };
}
