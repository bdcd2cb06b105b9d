import { Rng } from '@chameleon/core';
import type { OmniglotLikeGeneratorConfig, Rotation } from '@chameleon/tasks/src/few-shot';
import type { Point } from './strokes';

// Module-level bindings: inside a vm context (jest) every global lookup such as `Math` goes
// through an interceptor, which made the pixel loops 20x slower.
const { sin, floor, ceil, sqrt, min, max, round, cos, PI } = Math;

/** Output images are SIZE x SIZE; prototypes are kept at twice that resolution. */
export const SIZE = 28;
const PROTO = 2 * SIZE;
/** Distances are stored as bytes: 1/STEPS prototype pixel per step, up to 255 / STEPS. */
const STEPS = 32;
const FAR = 255;

/**
 * The distance from every pixel centre of a PROTO x PROTO grid to the nearest stroke, in
 * prototype pixels (bytes, 1/32 px). An instance is drawn from this field at any thickness
 * and under any smooth warp, so the expensive part (distances to segments) runs once per
 * character.
 */
export function distanceField(strokes: Point[][]): Uint8Array {
  const field = new Float32Array(PROTO * PROTO).fill(FAR / STEPS);
  const reach = FAR / STEPS;
  for (const line of strokes) {
    for (let s = 0; s + 1 < line.length; s++) {
      const [a, b] = [line[s], line[s + 1]];
      const [ax, ay, bx, by] = [a[0] * PROTO, a[1] * PROTO, b[0] * PROTO, b[1] * PROTO];
      const [vx, vy] = [bx - ax, by - ay];
      const len2 = vx * vx + vy * vy;
      const i0 = max(0, floor(min(ay, by) - reach));
      const i1 = min(PROTO - 1, ceil(max(ay, by) + reach));
      const j0 = max(0, floor(min(ax, bx) - reach));
      const j1 = min(PROTO - 1, ceil(max(ax, bx) + reach));
      for (let i = i0; i <= i1; i++) {
        const py = i + 0.5;
        for (let j = j0; j <= j1; j++) {
          const px = j + 0.5;
          const t = len2 > 0 ? min(1, max(0, ((px - ax) * vx + (py - ay) * vy) / len2)) : 0;
          const dx = px - ax - t * vx;
          const dy = py - ay - t * vy;
          const d = sqrt(dx * dx + dy * dy);
          if (d < field[i * PROTO + j]) field[i * PROTO + j] = d;
        }
      }
    }
  }
  const out = new Uint8Array(PROTO * PROTO);
  for (let i = 0; i < out.length; i++) out[i] = min(FAR, round(field[i] * STEPS));
  return out;
}

/** The random deformation of one instance: a pure function of (dataset seed, class, instance). */
interface Jitter {
  /** Inverse of the linear part, output pixels -> prototype pixels. */
  readonly m: [number, number, number, number];
  readonly tx: number;
  readonly ty: number;
  /** Half the stroke width in output pixels, plus the half-pixel of anti-aliasing. */
  readonly radius: number;
  /** Scale of output pixels per prototype pixel of distance. */
  readonly distanceScale: number;
  readonly wobble: [number, number, number, number, number, number];
}

function jitter(g: OmniglotLikeGeneratorConfig, alphabet: number, character: number, rotation: Rotation, instance: number): Jitter {
  const rng = Rng.fromKeys('omniglot-like', g.seed, 'instance', alphabet, character, instance);
  const angle = (rotation * PI) / 180 + (rng.uniform(-1, 1) * g.rotationJitter * PI) / 180;
  const scale = rng.uniform(g.scaleJitter[0], g.scaleJitter[1]);
  const shear = rng.uniform(-g.shearJitter, g.shearJitter);
  const [c, s] = [cos(angle), sin(angle)];
  // Forward map (prototype -> output, about the centre): R(angle) * [[1, shear], [0, 1]] * scale.
  const f = [scale * c, scale * (c * shear - s), scale * s, scale * (s * shear + c)];
  const det = f[0] * f[3] - f[1] * f[2];
  const m: [number, number, number, number] = [f[3] / det, -f[1] / det, -f[2] / det, f[0] / det];
  const t = g.translationJitter;
  const thickness = rng.uniform(g.thickness[0], g.thickness[1]);
  const w = g.wobble;
  return {
    m,
    tx: rng.uniform(-t, t),
    ty: rng.uniform(-t, t),
    radius: thickness / 2 + 0.5,
    distanceScale: scale / 2,
    wobble: [rng.uniform(-w, w), rng.uniform(-w, w), rng.uniform(0.15, 0.45), rng.uniform(0.15, 0.45), rng.uniform(0, 2 * PI), rng.uniform(0, 2 * PI)],
  };
}

/**
 * Draws one instance into out[offset .. offset + 784): each output pixel is mapped back into
 * the prototype (inverse affine jitter and class rotation, plus a smooth wobble), the stroke
 * distance there is read bilinearly, and coverage is clamp(radius - distance, 0, 1): an
 * anti-aliased stroke of the instance's thickness. Values in [0, 1], strokes 1 (as MAML's
 * inverted Omniglot images).
 */
export function renderInstance(field: Uint8Array, g: OmniglotLikeGeneratorConfig, cls: { alphabet: number; character: number; rotation: Rotation }, instance: number, out: Float32Array, offset: number): void {
  const j = jitter(g, cls.alphabet, cls.character, cls.rotation, instance);
  const [m0, m1, m2, m3] = j.m;
  const [ax, ay, fx, fy, px, py] = j.wobble;
  const half = SIZE / 2;
  const wobbleY = columnWobble;
  for (let k = 0; k < SIZE; k++) wobbleY[k] = ay * sin(fy * (k + 0.5 - half - j.tx) + py);
  for (let i = 0; i < SIZE; i++) {
    const oy = i + 0.5 - half - j.ty;
    const wx = ax * sin(fx * oy + px);
    for (let k = 0; k < SIZE; k++) {
      const ox = k + 0.5 - half - j.tx;
      const wy = wobbleY[k];
      // Output offset from centre -> prototype pixel coordinates (pixel centres at +0.5).
      const u = (m0 * (ox + wx) + m1 * (oy + wy)) * 2 + SIZE - 0.5;
      const v = (m2 * (ox + wx) + m3 * (oy + wy)) * 2 + SIZE - 0.5;
      const d = sample(field, u, v) / STEPS;
      const cover = j.radius - d * j.distanceScale;
      out[offset + i * SIZE + k] = cover <= 0 ? 0 : cover >= 1 ? 1 : cover;
    }
  }
}

const columnWobble = new Float64Array(SIZE);

/** Bilinear read of the byte field at (column u, row v); FAR outside. */
function sample(field: Uint8Array, u: number, v: number): number {
  const j = floor(u);
  const i = floor(v);
  if (i < 0 || j < 0 || i >= PROTO - 1 || j >= PROTO - 1) return FAR;
  const [du, dv] = [u - j, v - i];
  const p = i * PROTO + j;
  const top = field[p] + du * (field[p + 1] - field[p]);
  const bottom = field[p + PROTO] + du * (field[p + PROTO + 1] - field[p + PROTO]);
  return top + dv * (bottom - top);
}
