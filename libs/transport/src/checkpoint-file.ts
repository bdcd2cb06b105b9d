import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { failedPrecondition, invalidArgument, notFound } from '@chameleon/core';
import type { OptimiserState } from '@chameleon/meta';
import { Checkpoint } from '@chameleon/proto';
import { paramsFromWire, paramsToWire } from '@chameleon/tensor';

export const CHECKPOINT_FORMAT_VERSION = 1;

/** Larger files are refused before reading (a checkpoint of a 100M-parameter model with Adam is about 1.2 GB). */
export const MAX_CHECKPOINT_BYTES = 2 ** 31 - 1;

/** Writes bytes so that a reader sees either the old file or the new one, never a torn write. */
export function writeAtomic(path: string, bytes: Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  // Persist the rename itself.
  const dir = openSync(dirname(path), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

export function saveCheckpoint(path: string, checkpoint: Checkpoint): void {
  writeAtomic(path, Checkpoint.encode(checkpoint).finish());
}

export function loadCheckpoint(path: string, field = 'resume_from'): Checkpoint {
  // Paths come from requests: refuse devices, pipes and folders (reading /dev/zero never ends).
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw invalidArgument(field, `${path} is not a regular file`);
    size = st.size;
  } catch (e) {
    if ((e as { code?: string }).code === 'INVALID_ARGUMENT') throw e;
    throw notFound(`cannot read checkpoint ${path}: ${(e as Error).message}`, field);
  }
  if (size > MAX_CHECKPOINT_BYTES) throw failedPrecondition(`${path} is ${size} bytes, more than a checkpoint can be (${MAX_CHECKPOINT_BYTES})`);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw notFound(`cannot read checkpoint ${path}: ${(e as Error).message}`, field);
  }
  let c: Checkpoint;
  try {
    c = Checkpoint.decode(bytes);
  } catch (e) {
    throw failedPrecondition(`${path} is not a Chameleon checkpoint: ${(e as Error).message}`);
  }
  if (c.formatVersion !== CHECKPOINT_FORMAT_VERSION) {
    throw failedPrecondition(`${path} has checkpoint format ${c.formatVersion}; this build reads format ${CHECKPOINT_FORMAT_VERSION}`);
  }
  return c;
}

export function optimiserToWire(state: OptimiserState) {
  const names = Object.keys(state.slots).sort();
  return {
    name: state.name,
    step: state.step,
    slots: paramsToWire(names, names.map((n) => [state.slots[n].length]), names.map((n) => state.slots[n])),
  };
}

export function optimiserFromWire(w: Checkpoint['optimiser']): OptimiserState {
  if (!w) throw failedPrecondition('the checkpoint has no optimiser state');
  const slots: Record<string, Float32Array> = {};
  for (const s of paramsFromWire(w.slots, 'optimiser.slots')) slots[s.name] = Float32Array.from(s.tensor.data);
  return { name: w.name === 'sgd' ? 'sgd' : 'adam', step: w.step, slots };
}
