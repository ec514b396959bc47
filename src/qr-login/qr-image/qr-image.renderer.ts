import { Injectable } from '@nestjs/common';
import QRCode from 'qrcode';

/** Pixel sizes accepted for `?size=N` (the image is square). */
export const QR_IMAGE_SIZE = { default: 256, min: 64, max: 1024 } as const;

/** Error correction 'M' (~15 % of the symbol may be damaged); quiet zone of 2 modules. */
const OPTIONS = { errorCorrectionLevel: 'M', margin: 2 } as const;

/**
 * Renders `qrContent` as an SVG or PNG QR code with the `qrcode` package.
 *
 * `size` is the image's width and height in pixels, an integer within
 * QR_IMAGE_SIZE (default 256); anything else — or a size too small to give every
 * module a pixel — throws a RangeError (the controller answers
 * `validation.failed`). Content too long for a QR code throws the library's Error.
 */
@Injectable()
export class QrImageRenderer {
  async svg(content: string, size: number = QR_IMAGE_SIZE.default): Promise<string> {
    const width = checkSize(content, size);
    return QRCode.toString(content, { ...OPTIONS, type: 'svg', width });
  }

  async png(content: string, size: number = QR_IMAGE_SIZE.default): Promise<Buffer> {
    const width = checkSize(content, size);
    // The library draws floor(modules × (width / modules)) pixels, which floating
    // point can make width − 1 (333 → 332); half a pixel more keeps it exact.
    // Grayscale with the "Sub" filter instead of RGBA with adaptive filtering:
    // about 4× faster at 256 px for a slightly larger file. (A fresh object each
    // time: the library writes into rendererOpts.)
    return QRCode.toBuffer(content, {
      ...OPTIONS,
      type: 'png',
      width: width + 0.5,
      rendererOpts: { colorType: 0, filterType: 1 } as QRCode.QRCodeToBufferOptions['rendererOpts'],
    });
  }
}

function checkSize(content: string, size: number): number {
  if (!Number.isInteger(size) || size < QR_IMAGE_SIZE.min || size > QR_IMAGE_SIZE.max) {
    throw new RangeError(
      `QR image size must be an integer from ${QR_IMAGE_SIZE.min} to ${QR_IMAGE_SIZE.max} pixels, got ${String(size)}`,
    );
  }
  // Below one pixel per module the library ignores `width` and draws a larger image.
  const modules = QRCode.create(content, { errorCorrectionLevel: OPTIONS.errorCorrectionLevel }).modules.size;
  const needed = modules + OPTIONS.margin * 2;
  if (size < needed) {
    throw new RangeError(`QR image size ${size} is too small for this content: at least ${needed} pixels`);
  }
  return size;
}
