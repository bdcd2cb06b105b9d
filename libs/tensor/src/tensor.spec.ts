import { float32, int32 } from '@chameleon/core';
import { DataType } from '@chameleon/proto';
import { fromWire, optionalFromWire, toWire } from './tensor';
import { paramsFromWire, paramsToWire, paramValues } from './parameters';

describe('wire tensors', () => {
  it('round-trip float32 and int32 exactly, through an encode/decode of the message', () => {
    const { Tensor } = jest.requireActual('@chameleon/proto') as typeof import('@chameleon/proto');
    for (const t of [float32([2, 3], [1, -2, 3.5, NaN, Infinity, 0]), int32([4], [1, -1, 2 ** 31 - 1, 0])]) {
      const decoded = Tensor.decode(Tensor.encode(toWire(t)).finish());
      const back = fromWire(decoded, 'x');
      expect(back.dtype).toBe(t.dtype);
      expect(back.shape).toEqual(t.shape);
      expect(Array.from(back.data)).toEqual(Array.from(t.data));
    }
  });

  it('views aligned bytes without copying and copies misaligned ones', () => {
    const buf = new Uint8Array(13);
    new Float32Array(buf.buffer, 4, 2).set([1.5, 2.5]);
    const aligned = fromWire({ dtype: DataType.DATA_TYPE_FLOAT32, shape: [2], data: Buffer.from(buf.buffer, 4, 8) }, 'x');
    expect(aligned.data.buffer).toBe(buf.buffer);
    const odd = new Uint8Array(9);
    odd.set(new Uint8Array(new Float32Array([1.5, 2.5]).buffer), 1);
    const misaligned = fromWire({ dtype: DataType.DATA_TYPE_FLOAT32, shape: [2], data: Buffer.from(odd.buffer, 1, 8) }, 'x');
    expect(Array.from(misaligned.data)).toEqual([1.5, 2.5]);
  });

  it('rejects a wrong byte length, an unset dtype, a negative or huge shape, naming the field', () => {
    expect(() => fromWire({ dtype: DataType.DATA_TYPE_FLOAT32, shape: [3], data: Buffer.alloc(8) }, 'support_inputs')).toThrow(
      /support_inputs.data: shape \[3\] of float32 needs 12 bytes, got 8/,
    );
    expect(() => fromWire({ dtype: DataType.DATA_TYPE_UNSPECIFIED, shape: [1], data: Buffer.alloc(4) }, 'x')).toThrow(/x.dtype/);
    expect(() => fromWire({ dtype: DataType.DATA_TYPE_FLOAT32, shape: [-1], data: Buffer.alloc(0) }, 'x')).toThrow(/x.shape/);
    expect(() => fromWire({ dtype: DataType.DATA_TYPE_FLOAT32, shape: [1 << 20, 1 << 20], data: Buffer.alloc(0) }, 'x')).toThrow(
      expect.objectContaining({ code: 'RESOURCE_EXHAUSTED' }),
    );
    expect(() => fromWire(undefined, 'query_inputs')).toThrow(/query_inputs: is required/);
    expect(() => fromWire(toWire(int32([1], [1])), 'x', ['float32'])).toThrow(/x.dtype: must be float32, got int32/);
    expect(optionalFromWire(undefined, 'x')).toBeUndefined();
  });
});

describe('wire parameters', () => {
  it('round-trip in spec order and check names', () => {
    const wire = paramsToWire(['w', 'b'], [[2, 2], [2]], [Float32Array.from([1, 2, 3, 4]), Float32Array.from([5, 6])]);
    const named = paramsFromWire({ tensors: [wire.tensors[1], wire.tensors[0]] });
    const values = paramValues(named, ['w', 'b']);
    expect(Array.from(values[0])).toEqual([1, 2, 3, 4]);
    expect(() => paramValues(named, ['w', 'b', 'c'])).toThrow(/params: missing c/);
    expect(() => paramValues(named, ['w'])).toThrow(/params: unexpected b/);
    expect(() => paramsFromWire({ tensors: [wire.tensors[0], wire.tensors[0]] })).toThrow(/"w" appears twice/);
  });
});
