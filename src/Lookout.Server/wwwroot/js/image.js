// Turning whatever the user gave us into an upright JPEG no longer than maxSide on its longest side.

export class ImageDecodeError extends Error {
  constructor() {
    super('This file could not be opened as an image. Choose a photo (JPEG, PNG, WebP, GIF or BMP).');
    this.name = 'ImageDecodeError';
    this.kind = 'not-image';
  }
}

/**
 * Decode with the EXIF orientation applied, draw to a canvas scaled to maxSide, export JPEG.
 * The canvas is upright, so the server receives upright pixels; no orientation is sent.
 * @param {Blob} file
 * @param {number} maxSide
 * @param {number} quality
 * @returns {Promise<{blob: Blob, canvas: HTMLCanvasElement, width: number, height: number, scale: number}>}
 */
export async function toUprightJpeg(file, maxSide, quality = 0.9) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
  } catch {
    throw new ImageDecodeError();
  }
  try {
    const scale = Math.min(1, maxSide / Math.max(bitmap.width, bitmap.height));
    const width = Math.max(1, Math.round(bitmap.width * scale));
    const height = Math.max(1, Math.round(bitmap.height * scale));
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    const ctx = canvas.getContext('2d');
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = 'high';
    ctx.fillStyle = '#ffffff'; // transparent PNGs become white, not black, in the JPEG
    ctx.fillRect(0, 0, width, height);
    ctx.drawImage(bitmap, 0, 0, width, height);
    const blob = await canvasToBlob(canvas, 'image/jpeg', quality);
    return { blob, canvas, width, height, scale };
  } finally {
    bitmap.close();
  }
}

export function canvasToBlob(canvas, type, quality) {
  return new Promise((resolve, reject) => {
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('Could not encode the image.'))), type, quality);
  });
}

/** Save a Blob under a file name through a temporary <a download>. */
export function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
