// The part of pngjs 7 (no bundled types) that the Omniglot loader and its tests use.
declare module 'pngjs' {
  interface PNGImage {
    width: number;
    height: number;
    /** RGBA, 8 bits per channel, row-major. */
    data: Buffer;
  }
  interface PNGOptions {
    width?: number;
    height?: number;
  }
  interface WriteOptions {
    /** 0 grayscale, 2 RGB, 4 grayscale + alpha, 6 RGBA. */
    colorType?: number;
    inputColorType?: number;
    bitDepth?: 8 | 16;
    inputHasAlpha?: boolean;
  }
  class PNG implements PNGImage {
    constructor(options?: PNGOptions);
    width: number;
    height: number;
    data: Buffer;
    static sync: {
      read(buffer: Buffer): PNGImage;
      write(png: PNGImage, options?: WriteOptions): Buffer;
    };
  }
  export { PNG, PNGImage };
}
