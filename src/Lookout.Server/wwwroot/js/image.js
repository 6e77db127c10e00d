// Turning whatever the user gave us into what the page shows (an upright canvas no longer than maxSide) and what
// it uploads (the original file whenever the server can take it, so the page gets the same answer as
// POST /api/v1/detect with that file; an upright JPEG of the canvas only when it cannot).

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
 * @returns {Promise<{blob: Blob, canvas: HTMLCanvasElement, width: number, height: number, scale: number,
 *   fullWidth: number, fullHeight: number}>}  fullWidth/fullHeight: the upright photo's size before shrinking
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
    return { blob, canvas, width, height, scale, fullWidth: bitmap.width, fullHeight: bitmap.height };
  } finally {
    bitmap.close();
  }
}

/** Bytes a part's headers and the multipart boundaries add to an upload, with room to spare. */
export const MULTIPART_OVERHEAD_BYTES = 4096;

/**
 * The format the server would read these bytes as (the same signatures as its ImageFormatSniffer), or null.
 * HEIC, AVIF, TIFF… are null: the server answers 415 for them, so the page sends its own JPEG instead.
 * @param {Uint8Array} b the file's first bytes (16 are enough)
 */
export function serverFormat(b) {
  const ascii = (from, to) => String.fromCharCode(...b.subarray(from, to));
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 8 && [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((v, i) => b[i] === v)) return 'png';
  if (b.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  if (b.length >= 6 && (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a')) return 'gif';
  if (b.length >= 14 && b[0] === 0x42 && b[1] === 0x4d) return 'bmp';
  return null;
}

/**
 * Prepares one photo: the upright canvas (and a JPEG of it) to show, and what to upload.
 * The original file is uploaded when the server reads its format and it fits the server's byte and pixel
 * limits: the server applies the EXIF orientation itself and answers in the photo's own upright pixels, the same
 * answer /api/v1/detect gives for that file. Otherwise (too many bytes or pixels, or a format only the browser
 * reads, such as HEIC in Safari) the upright JPEG of the canvas is uploaded, as the page always did before.
 * @param {Blob} file
 * @param {{maxSide: number, maxUploadBytes?: number, maxPixels?: number}} limits
 * @returns {Promise<{upload: Blob, uploadName: string, sent: 'original'|'upright-jpeg', reason: string|null,
 *   canvas: HTMLCanvasElement, displayBlob: Blob, width: number, height: number}>}
 *   width/height: the photo's upright size at full resolution
 */
export async function preparePhoto(file, limits, fileName = 'image') {
  const shown = await toUprightJpeg(file, limits.maxSide, 0.9);
  const width = shown.fullWidth;
  const height = shown.fullHeight;
  const format = serverFormat(new Uint8Array(await file.slice(0, 16).arrayBuffer()));
  let reason = null;
  if (!format) reason = 'format';
  else if (limits.maxUploadBytes && file.size + MULTIPART_OVERHEAD_BYTES > limits.maxUploadBytes) reason = 'bytes';
  else if (limits.maxPixels && width * height > limits.maxPixels) reason = 'pixels';
  const base = String(fileName || 'image').split(/[\\/]/).pop().replace(/\.[^.]*$/, '') || 'image';
  return reason
    ? { upload: shown.blob, uploadName: `${base}.jpg`, sent: 'upright-jpeg', reason, canvas: shown.canvas,
        displayBlob: shown.blob, width: shown.width, height: shown.height }
    : { upload: file, uploadName: `${base}.${format === 'jpeg' ? 'jpg' : format}`, sent: 'original', reason,
        canvas: shown.canvas, displayBlob: shown.blob, width, height };
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
