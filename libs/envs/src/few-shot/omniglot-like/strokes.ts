import { Rng } from '@chameleon/core';
import type { OmniglotLikeGeneratorConfig } from '@chameleon/tasks/src/few-shot';

/** A point in the unit square (x right, y down). */
export type Point = [number, number];

/** A stroke primitive of an alphabet, in local coordinates around the origin. */
interface Primitive {
  readonly curved: boolean;
  readonly points: Point[];
}

/** What all characters of one alphabet share: their stroke repertoire and habits. */
interface AlphabetStyle {
  readonly primitives: Primitive[];
  readonly strokes: [number, number];
  /** Probability that a stroke starts where the previous one ended. */
  readonly connect: number;
  /** Preferred stroke orientations are multiples of this angle (radians), plus noise. */
  readonly angleStep: number;
}

function alphabetStyle(g: OmniglotLikeGeneratorConfig, alphabet: number): AlphabetStyle {
  const rng = Rng.fromKeys('omniglot-like', g.seed, 'style', alphabet);
  const curvedness = rng.next();
  const primitives = Array.from({ length: 4 + rng.int(5) }, () => {
    const curved = rng.next() < curvedness;
    const n = curved ? 4 : 2 + rng.int(3);
    const points: Point[] = Array.from({ length: n }, () => [rng.uniform(-0.5, 0.5), rng.uniform(-0.5, 0.5)]);
    return { curved, points };
  });
  const [lo, hi] = g.strokes;
  const a = lo + rng.int(hi - lo + 1);
  const b = lo + rng.int(hi - lo + 1);
  return { primitives, strokes: [Math.min(a, b), Math.max(a, b)], connect: rng.uniform(0.1, 0.8), angleStep: Math.PI / [2, 3, 4, 6, 8][rng.int(5)] };
}

function cubic(p: Point[], t: number): Point {
  const u = 1 - t;
  const [a, b, c, d] = [u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t];
  return [a * p[0][0] + b * p[1][0] + c * p[2][0] + d * p[3][0], a * p[0][1] + b * p[1][1] + c * p[2][1] + d * p[3][1]];
}

/**
 * The strokes of one character as polylines in the unit square, centred and scaled to fill
 * about two thirds of it (as Omniglot's drawings are). A pure function of (dataset seed,
 * alphabet, character): characters of one alphabet reuse its primitives, so they look alike.
 */
export function characterStrokes(g: OmniglotLikeGeneratorConfig, alphabet: number, character: number): Point[][] {
  const style = alphabetStyle(g, alphabet);
  const rng = Rng.fromKeys('omniglot-like', g.seed, 'character', alphabet, character);
  const count = style.strokes[0] + rng.int(style.strokes[1] - style.strokes[0] + 1);
  const strokes: Point[][] = [];
  let end: Point | undefined;
  for (let s = 0; s < count; s++) {
    const prim = style.primitives[rng.int(style.primitives.length)];
    const scale = rng.uniform(0.4, 0.9);
    const angle = style.angleStep * rng.int(Math.round((2 * Math.PI) / style.angleStep)) + rng.normal(0, 0.15);
    const [c, sn] = [Math.cos(angle), Math.sin(angle)];
    const flip = rng.next() < 0.5 ? -1 : 1;
    let pts: Point[] = prim.points.map(([x, y]) => [scale * (c * x * flip - sn * y), scale * (sn * x * flip + c * y)]);
    const anchor: Point = end && rng.next() < style.connect ? end : [rng.uniform(0.25, 0.75), rng.uniform(0.25, 0.75)];
    const [dx, dy] = [anchor[0] - pts[0][0], anchor[1] - pts[0][1]];
    pts = pts.map(([x, y]) => [x + dx, y + dy]);
    const line = prim.curved ? Array.from({ length: 17 }, (_, i) => cubic(pts, i / 16)) : pts;
    strokes.push(line);
    end = line[line.length - 1];
  }
  // Fit into [1/6, 5/6]^2, keeping the aspect ratio.
  const xs = strokes.flat().map((p) => p[0]);
  const ys = strokes.flat().map((p) => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const k = (2 / 3) / Math.max(x1 - x0, y1 - y0, 0.2);
  const [cx, cy] = [(x0 + x1) / 2, (y0 + y1) / 2];
  return strokes.map((line) => line.map(([x, y]) => [0.5 + k * (x - cx), 0.5 + k * (y - cy)] as Point));
}
