/** Half-width of the smallest axis domain: 2D navigation goals lie in [-0.5, 0.5]^2. */
export const MIN_EXTENT = 0.6;
/** Share of path points the frame must hold: the rest (a policy wandering off) is clipped. */
export const FRAME_QUANTILE = 0.9;

/** Axis half-width of every panel, and how many path points it leaves outside. */
export interface PathFrame {
  extent: number;
  outside: number;
  points: number;
}

/**
 * Half-width of the square, origin-centred frame: at least MIN_EXTENT, wide enough for every
 * goal and start and for FRAME_QUANTILE of the path points, never wider than the data. An
 * untrained policy can wander several times the goal distance; sizing the frame to its
 * farthest point would shrink the goals, the start and the adapted paths to a blob.
 */
export function viewExtent(rows: readonly { x: number; y: number }[], marks: readonly { x: number; y: number }[]): PathFrame {
  const reachOf = (p: { x: number; y: number }) => Math.max(Math.abs(p.x), Math.abs(p.y));
  const reaches = rows.map(reachOf).sort((a, b) => a - b);
  const quantile = reaches.length ? reaches[Math.floor(FRAME_QUANTILE * (reaches.length - 1))] : 0;
  const all = Math.max(reaches[reaches.length - 1] ?? 0, ...marks.map(reachOf));
  const wanted = Math.max(quantile, ...marks.map(reachOf));
  const up = (v: number) => Math.ceil(v * 1.1 * 10 - 1e-9) / 10;
  const extent = Math.max(MIN_EXTENT, Math.min(up(wanted), up(all)));
  return { extent, outside: reaches.filter((r) => r > extent).length, points: reaches.length };
}
