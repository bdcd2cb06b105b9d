import { float32, invalidArgument, type NamedHostTensor } from '@chameleon/core';
import type { Parameters } from '@chameleon/proto';
import { fromWire, toWire } from './tensor';

/** A parameter list from the wire, validated (names unique, float32). */
export function paramsFromWire(p: Parameters | undefined, field = 'params'): NamedHostTensor[] {
  if (!p) throw invalidArgument(field, 'is required');
  const seen = new Set<string>();
  return p.tensors.map((nt, i) => {
    if (!nt.name) throw invalidArgument(`${field}.tensors[${i}].name`, 'is required');
    if (seen.has(nt.name)) throw invalidArgument(`${field}.tensors[${i}].name`, `"${nt.name}" appears twice`);
    seen.add(nt.name);
    return { name: nt.name, tensor: fromWire(nt.tensor, `${field}.tensors[${i}].tensor`, ['float32'] as const) };
  });
}

/**
 * Values in spec order, checking names: the wire list must hold exactly the expected names
 * (in any order).
 */
export function paramValues(named: readonly NamedHostTensor[], names: readonly string[], field = 'params'): Float32Array[] {
  const byName = new Map(named.map((n) => [n.name, n.tensor.data]));
  const missing = names.filter((n) => !byName.has(n));
  if (missing.length) throw invalidArgument(field, `missing ${missing.join(', ')}; expected ${names.join(', ')}`);
  const extra = named.filter((n) => !names.includes(n.name)).map((n) => n.name);
  if (extra.length) throw invalidArgument(field, `unexpected ${extra.join(', ')}; expected ${names.join(', ')}`);
  return names.map((n) => byName.get(n)!);
}

/** Values with their names and shapes, as a wire parameter list. */
export function paramsToWire(names: readonly string[], shapes: ReadonlyArray<readonly number[]>, values: readonly Float32Array[]): Parameters {
  return { tensors: values.map((v, i) => ({ name: names[i], tensor: toWire(float32(shapes[i], v)) })) };
}
