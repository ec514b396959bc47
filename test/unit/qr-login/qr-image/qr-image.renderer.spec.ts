import { describe, expect, it } from '@jest/globals';
import { QR_IMAGE_SIZE, QrImageRenderer } from '../../../../src/qr-login/qr-image/qr-image.renderer.js';

const CONTENT = 'https://login.example.com/m/qr/3q2-7wAAAAB1c2VyLXNlc3Npb24tMTIz';
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Width and height from the IHDR chunk, which must come first. */
function pngSize(png: Buffer): { width: number; height: number } {
  expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

describe('QrImageRenderer', () => {
  const renderer = new QrImageRenderer();

  it('svg(): one valid, square SVG element of the requested size (default 256)', async () => {
    const svg = await renderer.svg(CONTENT);
    expect(svg.trim()).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]*>.*<\/svg>$/s);
    expect(svg).toContain('width="256" height="256"');
    expect(svg).toMatch(/viewBox="0 0 (\d+) \1"/);
    expect(svg).toMatch(/<path [^>]*d="M[^"]+"/);
    expect(svg.match(/<svg\b/g)).toHaveLength(1);
    expect(svg).not.toMatch(/<script|on\w+=/i);
    expect(await renderer.svg(CONTENT, 512)).toContain('width="512" height="512"');
  });

  it('svg(): a quiet zone of 2 modules (viewBox = modules + 4)', async () => {
    const svg = await renderer.svg('x');
    // Version 1 is 21 modules wide.
    expect(svg).toContain('viewBox="0 0 25 25"');
  });

  it('png(): a PNG of exactly the requested width', async () => {
    for (const size of [QR_IMAGE_SIZE.min, 100, QR_IMAGE_SIZE.default, 333, QR_IMAGE_SIZE.max]) {
      const png = await renderer.png(CONTENT, size);
      expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
      expect(pngSize(png)).toEqual({ width: size, height: size });
    }
    expect(pngSize(await renderer.png(CONTENT))).toEqual({ width: 256, height: 256 });
  });

  it('the same content gives the same image', async () => {
    expect((await renderer.png(CONTENT, 128)).equals(await renderer.png(CONTENT, 128))).toBe(true);
    expect(await renderer.svg(CONTENT)).toBe(await renderer.svg(CONTENT));
  });

  it.each([0, 63, 1025, 100.5, Number.NaN, Number.POSITIVE_INFINITY, -256])('size %p is a RangeError', async (size) => {
    await expect(renderer.svg(CONTENT, size)).rejects.toThrow(RangeError);
    await expect(renderer.png(CONTENT, size)).rejects.toThrow(RangeError);
  });

  it('a size too small for dense content is a RangeError, not a larger image', async () => {
    const dense = 'x'.repeat(600);
    await expect(renderer.png(dense, 64)).rejects.toThrow(/too small for this content/);
    await expect(renderer.svg(dense, 64)).rejects.toThrow(RangeError);
    expect(pngSize(await renderer.png(dense, 512)).width).toBe(512);
  });
});
