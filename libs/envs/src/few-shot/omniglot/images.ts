import { readFileSync, readdirSync } from 'node:fs';
import { PNG } from 'pngjs';
import { invalidArgument } from '@chameleon/core';

/** Side of the images the loader produces (MAML, Santoro et al.: 105x105 resized to 28x28). */
export const SIDE = 28;

/** The PNG files of a character folder, sorted (one per drawer). */
export function characterFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    throw invalidArgument('tasks', `Omniglot character folder ${dir} cannot be read`);
  }
  const files = names.filter((n) => n.toLowerCase().endsWith('.png')).sort();
  if (files.length === 0) throw invalidArgument('tasks', `Omniglot character folder ${dir} holds no .png files`);
  return files;
}

/**
 * Decodes an Omniglot PNG (any bit depth or colour type; the release is 1-bit grayscale,
 * 105x105, black strokes on white) into luminance in [0, 1].
 */
export function decodeGray(bytes: Buffer): { width: number; height: number; gray: Float32Array } {
  const png = PNG.sync.read(bytes);
  const gray = new Float32Array(png.width * png.height);
  for (let i = 0; i < gray.length; i++) {
    const [r, g, b, a] = [png.data[4 * i], png.data[4 * i + 1], png.data[4 * i + 2], png.data[4 * i + 3]];
    // Transparent pixels count as background (white).
    const lum = (0.299 * r + 0.587 * g + 0.114 * b) / 255;
    gray[i] = (a / 255) * lum + (1 - a / 255);
  }
  return { width: png.width, height: png.height, gray };
}

/**
 * Area-averaging resize (each output pixel is the mean of the input area it covers, with
 * fractional edges): the anti-aliased downscale of 105 -> 28.
 */
export function resizeArea(src: Float32Array, width: number, height: number, side: number): Float32Array {
  const weights = (n: number) => {
    // For each output index, the [input index, weight] pairs covering it.
    const scale = n / side;
    return Array.from({ length: side }, (_, o) => {
      const [lo, hi] = [o * scale, (o + 1) * scale];
      const parts: Array<[number, number]> = [];
      for (let i = Math.floor(lo); i < Math.min(n, Math.ceil(hi)); i++) parts.push([i, (Math.min(hi, i + 1) - Math.max(lo, i)) / scale]);
      return parts;
    });
  };
  const [wx, wy] = [weights(width), weights(height)];
  const rows = new Float32Array(height * side);
  for (let y = 0; y < height; y++) for (let o = 0; o < side; o++) rows[y * side + o] = wx[o].reduce((s, [i, w]) => s + w * src[y * width + i], 0);
  const out = new Float32Array(side * side);
  for (let o = 0; o < side; o++) for (let x = 0; x < side; x++) out[o * side + x] = wy[o].reduce((s, [i, w]) => s + w * rows[i * side + x], 0);
  return out;
}

/** One Omniglot image as the network sees it: 28x28, strokes 1 on 0 (inverted, as in MAML), as bytes. */
export function loadImage(path: string): Uint8Array {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    throw invalidArgument('tasks', `Omniglot image ${path} cannot be read`);
  }
  let decoded: ReturnType<typeof decodeGray>;
  try {
    decoded = decodeGray(bytes);
  } catch (e) {
    throw invalidArgument('tasks', `Omniglot image ${path} is not a valid PNG: ${(e as Error).message}`);
  }
  const small = resizeArea(decoded.gray, decoded.width, decoded.height, SIDE);
  const out = new Uint8Array(SIDE * SIDE);
  for (let i = 0; i < out.length; i++) out[i] = Math.round(255 * (1 - Math.min(1, Math.max(0, small[i]))));
  return out;
}

/** Writes an image rotated counter-clockwise by `rotation` degrees (a multiple of 90) as floats in [0, 1]. */
export function writeRotated(img: Uint8Array, rotation: number, out: Float32Array, offset: number): void {
  const n = SIDE - 1;
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      // Source pixel of output (y, x) under a counter-clockwise rotation.
      const [sy, sx] = rotation === 90 ? [x, n - y] : rotation === 180 ? [n - y, n - x] : rotation === 270 ? [n - x, y] : [y, x];
      out[offset + y * SIDE + x] = img[sy * SIDE + sx] / 255;
    }
  }
}

