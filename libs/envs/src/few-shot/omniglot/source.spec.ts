import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { PNG } from 'pngjs';
import { sampleTasks } from '@chameleon/tasks';
import { OmniglotFamily, omniglotConfig, type OmniglotParams } from '@chameleon/tasks/src/few-shot';
import { describeSupervisedSourceContract } from '../../supervised/contract';
import { localDataFn } from '../../supervised/source';
import { decodeGray, loadImage, resizeArea } from './images';
import { omniglotSource, omniglotSourcePlugin } from './source';

const CRC = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (b: Buffer) => {
  let c = 0xffffffff;
  for (const x of b) c = CRC[(c ^ x) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
const chunk = (type: string, data: Buffer) => {
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
};

/** A 1-bit grayscale PNG, the format of the Omniglot release, written by hand (ink: true = black). */
function png1bit(width: number, height: number, ink: (x: number, y: number) => boolean): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([1, 0, 0, 0, 0], 8); // bit depth 1, grayscale, deflate, no filter, no interlace
  const stride = Math.ceil(width / 8);
  const raw = Buffer.alloc(height * (stride + 1));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) if (!ink(x, y)) raw[y * (stride + 1) + 1 + (x >> 3)] |= 0x80 >> (x & 7);
  }
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** The same drawing as an 8-bit RGBA PNG written by pngjs. */
function pngRgba(width: number, height: number, ink: (x: number, y: number) => boolean): Buffer {
  const png = new PNG({ width, height });
  for (let i = 0; i < width * height; i++) png.data.set(ink(i % width, Math.floor(i / width)) ? [0, 0, 0, 255] : [255, 255, 255, 255], 4 * i);
  return PNG.sync.write(png);
}

/** Character c of alphabet a, drawer d: a bar whose position encodes the character, shifted by the drawer. */
const drawing = (a: number, c: number, d: number) => (x: number, y: number) => {
  const top = 10 + 12 * c + (d % 3);
  const left = 10 + 20 * a + (d % 4);
  return y >= top && y < top + 8 && x >= left && x < left + 40;
};

function fixture(): string {
  const root = mkdtempSync(join(tmpdir(), 'omniglot-envs-'));
  for (const folder of ['images_background', 'images_evaluation']) {
    for (let a = 0; a < 2; a++) {
      for (let c = 0; c < 5; c++) {
        const dir = join(root, folder, `Alphabet_${a}`, `character${String(c + 1).padStart(2, '0')}`);
        mkdirSync(dir, { recursive: true });
        for (let d = 0; d < 20; d++) {
          const write = d % 2 ? png1bit : pngRgba;
          writeFileSync(join(dir, `${String(c + 1).padStart(4, '0')}_${String(d + 1).padStart(2, '0')}.png`), write(105, 105, drawing(a, c, d)));
        }
      }
    }
  }
  return root;
}

const root = fixture();
afterAll(() => rmSync(root, { recursive: true, force: true }));

const family = new OmniglotFamily(omniglotConfig.parse({ root, split: { by: 'characters', train: 12, validation: 2 } }));
const tasks = (n: number) => sampleTasks(family, { split: 'train', seed: 1, start: 0, count: n });

describeSupervisedSourceContract('omniglot (in process, generated PNG fixture)', () => localDataFn(omniglotSource()), tasks, { input: [28, 28, 1], target: [] });

describe('omniglot images', () => {
  it('decodes the 1-bit grayscale PNGs of the release and 8-bit RGBA ones alike', () => {
    const ink = drawing(0, 1, 0);
    const a = decodeGray(png1bit(105, 105, ink));
    const b = decodeGray(pngRgba(105, 105, ink));
    expect([a.width, a.height]).toEqual([105, 105]);
    expect(Array.from(a.gray)).toEqual(Array.from(b.gray));
    expect(a.gray[22 * 105 + 15]).toBe(0); // inside the bar: black
    expect(a.gray[0]).toBe(1);
  });

  it('resizes 105 -> 28 by area averaging (coverage fractions, mean preserved)', () => {
    const src = new Float32Array(105 * 105).map((_, i) => (i % 105 < 15 ? 1 : 0)); // the left 15 columns
    const out = resizeArea(src, 105, 105, 28);
    // Output column 3 covers input columns [11.25, 15): fully lit; column 4 covers [15, 18.75): dark.
    expect(out[3]).toBeCloseTo(1, 5);
    expect(out[4]).toBeCloseTo(0, 5);
    const mean = (x: Float32Array) => x.reduce((s, v) => s + v, 0) / x.length;
    expect(mean(out)).toBeCloseTo(mean(src), 5);
    const step = resizeArea(new Float32Array(105 * 105).map((_, i) => (i % 105 < 16 ? 1 : 0)), 105, 105, 28);
    expect(step[4]).toBeCloseTo(1 / 3.75, 5); // one of the 3.75 input columns is lit
  });

  it('inverts (strokes 1 on 0, as MAML feeds Omniglot) and stores 28x28 bytes', () => {
    const dir = join(root, 'images_background/Alphabet_0/character01');
    const img = loadImage(join(dir, '0001_01.png'));
    expect(img).toHaveLength(784);
    expect(img[0]).toBe(0);
    expect(Math.max(...img)).toBe(255);
  });
});

describe('omniglot source', () => {
  const source = omniglotSource();

  it('draws each class from its own folder, rotated by its rotation (90 degrees counter-clockwise)', () => {
    const [task] = tasks(1);
    const p = task.params as unknown as OmniglotParams;
    const upright = { ...task, id: 'upright', params: { ...p, classes: p.classes.map((c) => ({ ...c, rotation: 0 })) } };
    const turned = { ...task, id: 'upright', params: { ...p, classes: p.classes.map((c) => ({ ...c, rotation: 90 })) } };
    const a = source.sample([upright], { supportSize: 5, querySize: 0, seed: 1 });
    const b = source.sample([turned], { supportSize: 5, querySize: 0, seed: 1 });
    expect(Array.from(a.supportY.data)).toEqual(Array.from(b.supportY.data));
    for (let i = 0; i < 5; i++) {
      for (let y = 0; y < 28; y++) {
        for (let x = 0; x < 28; x++) expect(b.supportX.data[i * 784 + y * 28 + x]).toBe(a.supportX.data[i * 784 + x * 28 + (27 - y)]);
      }
    }
  });

  it('labels follow the task: the images of label l come from the folder of classes[l]', () => {
    const upright = new OmniglotFamily(omniglotConfig.parse({ root, rotations: [0], split: { by: 'characters', train: 12, validation: 2 } }));
    const [task] = sampleTasks(upright, { split: 'train', seed: 4, start: 0, count: 1 });
    const p = task.params as unknown as OmniglotParams;
    const b = source.sample([task], { supportSize: 10, querySize: 10, seed: 2 });
    for (let j = 0; j < 10; j++) {
      // Character c (folder number c + 1) has its bar at rows 10 + 12c .. +8 of 105 (+ up to 2 by drawer).
      const c = Number(p.classes[b.supportY.data[j]].character.slice(-2)) - 1;
      const img = Array.from(b.supportX.data.slice(j * 784, (j + 1) * 784));
      const rows = Array.from({ length: 28 }, (_, r) => img.slice(r * 28, (r + 1) * 28).reduce((s, v) => s + v, 0));
      const centre = rows.reduce((s, v, r) => s + v * (r + 0.5), 0) / rows.reduce((s, v) => s + v, 0);
      expect(Math.abs(centre - ((10 + 12 * c + 5) / 105) * 28)).toBeLessThan(0.6);
    }
  });

  it('names the field at fault for bad params and episodes larger than 20 drawers', () => {
    const [task] = tasks(1);
    expect(() => source.sample([task], { supportSize: 5 * 15, querySize: 5 * 10, seed: 0 })).toThrow(/support_size/);
    const escape = { ...task, params: { ...task.params, classes: [{ character: '../etc', rotation: 0 }, { character: 'x', rotation: 0 }], ways: 2 } };
    expect(() => source.sample([escape], { supportSize: 2, querySize: 0, seed: 0 })).toThrow(/tasks\[0\]\.params\.classes\[0\]/);
    const relative = { ...task, params: { ...task.params, root: 'data/omniglot' } };
    expect(() => source.sample([relative], { supportSize: 5, querySize: 0, seed: 0 })).toThrow(/tasks\[0\]\.params\.root/);
    expect(omniglotSourcePlugin.name).toBe(family.name);
  });
});
