// Talking to the Lookout server: /api/v1/config, /api/v1/models, /api/v1/detect, /status_check.
// Every failure becomes a DetectError with a message written for people, not for developers.

export const REQUEST_TIMEOUT_MS = 25_000; // the original page waited 25 s too

export const DEFAULT_CONFIG = Object.freeze({
  max_side: 1280,
  max_upload_bytes: 20 * 1024 * 1024,
  max_pixels: 0,        // 0 = not told: the server's own 400/413 says when a photo has too many pixels
  default_conf: 0.25,
  request_timeout_seconds: 25,
  max_images_per_request: 16,
  examples: [],
});

export class DetectError extends Error {
  /**
   * @param {string} kind  too-large | not-image | bad-request | unknown-model | busy | timeout | network | server | aborted
   * @param {string} message  plain words, shown in the page
   * @param {object} [extra]  status, detail, retryAfterSeconds
   */
  constructor(kind, message, extra = {}) {
    super(message);
    this.name = 'DetectError';
    this.kind = kind;
    Object.assign(this, extra);
  }
}

export async function fetchConfig() {
  try {
    const res = await fetchWithTimeout('/api/v1/config', { headers: { Accept: 'application/json' } }, 5000);
    if (!res.ok) return { ...DEFAULT_CONFIG };
    const cfg = await res.json();
    return {
      max_side: positiveNumber(cfg.max_side, DEFAULT_CONFIG.max_side),
      max_upload_bytes: positiveNumber(cfg.max_upload_bytes, DEFAULT_CONFIG.max_upload_bytes),
      max_pixels: positiveNumber(cfg.max_pixels, DEFAULT_CONFIG.max_pixels),
      default_conf: clamp01(cfg.default_conf, DEFAULT_CONFIG.default_conf),
      request_timeout_seconds: positiveNumber(cfg.request_timeout_seconds, DEFAULT_CONFIG.request_timeout_seconds),
      max_images_per_request: positiveNumber(cfg.max_images_per_request, DEFAULT_CONFIG.max_images_per_request),
      examples: Array.isArray(cfg.examples) ? cfg.examples : [],
    };
  } catch {
    return { ...DEFAULT_CONFIG };
  }
}

/**
 * The models this server can answer with now (GET /api/v1/models): catalogue models whose files are here and
 * models from its models folders; ones still to be downloaded or broken are left out.
 * @returns {Promise<{default: string, models: {name: string, family: string, width: number|null, height: number|null, isDefault: boolean}[]}>}
 */
export async function fetchModels() {
  try {
    const res = await fetchWithTimeout('/api/v1/models', { headers: { Accept: 'application/json' } }, 5000);
    if (!res.ok) return { default: '', models: [] };
    const body = await res.json();
    const list = Array.isArray(body?.models) ? body.models : [];
    return {
      default: typeof body.default === 'string' ? body.default : '',
      models: list.filter(canAnswer).map((m) => {
        const [width, height] = inputSize(m);
        return { name: m.name, family: typeof m.family === 'string' ? m.family : '', width, height, isDefault: m.is_default === true };
      }),
    };
  } catch {
    return { default: '', models: [] };
  }
}

function canAnswer(m) {
  if (!m || typeof m.name !== 'string' || !m.name) return false;
  // Servers with a models folder report a state; older ones only whether the files are here.
  if (typeof m.state === 'string') return ['available', 'loading', 'loaded'].includes(m.state);
  return m.available === true;
}

/** [width, height] from input_width/input_height, else input_size (a number or [w, h]); nulls when unknown. */
function inputSize(m) {
  const ok = (v) => typeof v === 'number' && Number.isFinite(v) && v > 0;
  if (ok(m.input_width) && ok(m.input_height)) return [m.input_width, m.input_height];
  if (ok(m.input_size)) return [m.input_size, m.input_size];
  if (Array.isArray(m.input_size) && m.input_size.length === 2 && m.input_size.every(ok)) return [m.input_size[0], m.input_size[1]];
  return [null, null];
}

/** True when GET /status_check answers 2xx within timeoutMs. */
export async function checkStatus(timeoutMs = 1500) {
  try {
    const res = await fetchWithTimeout('/status_check', { cache: 'no-store' }, timeoutMs);
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * POST the photo (the original file, or the page's upright JPEG of it) to /api/v1/detect and return the parsed JSON.
 * @param {Blob} image
 * @param {{fileName?:string, conf?:number, iou?:number, max_det?:number, annotate?:boolean, tile?:string, model?:string, signal?:AbortSignal, timeoutMs?:number, maxUploadBytes?:number}} opts
 */
export async function detect(image, opts = {}) {
  const form = new FormData();
  form.append('image', image, opts.fileName || 'image.jpg');
  const json = await postDetect(form, opts);
  if (!json || !Array.isArray(json.detections)) {
    throw new DetectError('server', 'The server sent an answer this page does not understand.');
  }
  return json;
}

/**
 * POST several photos in one request (the 'images' part); the answer keeps their order.
 * A failure of the whole request throws a DetectError; a failure of one photo comes back as its item.
 * @param {Array<{blob: Blob, name: string}>} photos
 * @param {object} opts  as for detect()
 * @returns {Promise<Array<{result: object} | {error: DetectError}>>}
 */
export async function detectMany(photos, opts = {}) {
  const form = new FormData();
  for (const p of photos) form.append('images', p.blob, p.name);
  const json = await postDetect(form, opts);
  if (!json || !Array.isArray(json.results) || json.results.length !== photos.length) {
    throw new DetectError('server', 'The server sent an answer this page does not understand.');
  }
  return json.results.map((item) => {
    if (item && item.error && typeof item.error.status === 'number') {
      const problem = { title: item.error.title, detail: item.error.detail };
      return { error: problemToError(item.error.status, problem, null, opts.maxUploadBytes) };
    }
    if (!item || !Array.isArray(item.detections)) {
      return { error: new DetectError('server', 'The server sent an answer this page does not understand.') };
    }
    return { result: item };
  });
}

async function postDetect(form, opts) {
  const params = new URLSearchParams({
    conf: String(opts.conf ?? 0.05),
    iou: String(opts.iou ?? 0.45),
    max_det: String(opts.max_det ?? 300),
    annotate: String(Boolean(opts.annotate)),
  });
  if (opts.tile) params.set('tile', opts.tile);
  // No model named: the server's default answers.
  if (opts.model) params.set('model', opts.model);

  const timeoutMs = opts.timeoutMs ?? REQUEST_TIMEOUT_MS;
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; controller.abort(); }, timeoutMs);
  const onOuterAbort = () => controller.abort();
  opts.signal?.addEventListener('abort', onOuterAbort, { once: true });

  let res;
  try {
    res = await fetch(`/api/v1/detect?${params}`, {
      method: 'POST',
      body: form,
      headers: { Accept: 'application/json' },
      signal: controller.signal,
    });
    if (!res.ok) throw await errorFromResponse(res, opts.maxUploadBytes);
    return await res.json();
  } catch (err) {
    if (err instanceof DetectError) throw err;
    if (timedOut) {
      throw new DetectError('timeout',
        `The server did not answer within ${Math.round(timeoutMs / 1000)} seconds. It may be overloaded — please try again.`);
    }
    if (opts.signal?.aborted) throw new DetectError('aborted', 'Cancelled.');
    throw new DetectError('network', 'Could not reach the Lookout server. Check that it is running and try again.');
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onOuterAbort);
  }
}

async function errorFromResponse(res, maxUploadBytes) {
  let problem = {};
  try {
    const type = res.headers.get('Content-Type') || '';
    if (type.includes('json')) problem = await res.json();
  } catch { /* not JSON: keep the status alone */ }
  return problemToError(res.status, problem, res.headers.get('Retry-After'), maxUploadBytes);
}

/** A problem (a whole response's, or one photo's inside a batch) in plain words. */
function problemToError(status, problem, retryAfterHeader, maxUploadBytes) {
  const detail = typeof problem.detail === 'string' ? problem.detail : '';
  const extra = { status, detail };
  // A model removed from the server's folder, or a stale choice remembered by this browser.
  if (status === 404 || (status === 400 && /model/i.test(problem.title || ''))) {
    return new DetectError('unknown-model',
      `This server does not have that model (any more). Pick another one in the Model list.${detail ? ` (${detail})` : ''}`, extra);
  }
  switch (status) {
    case 413: {
      const limit = maxUploadBytes ? ` (the limit is ${formatBytes(maxUploadBytes)})` : '';
      return new DetectError('too-large', `That image is too large for the server${limit}. Try a smaller photo.`, extra);
    }
    case 415:
      return new DetectError('not-image', 'That file is not an image the server can read. Try a JPEG, PNG or WebP photo.', extra);
    case 400:
      return new DetectError('bad-request',
        `The server could not read that image — it may be damaged or not an image.${detail ? ` (${detail})` : ''}`, extra);
    case 503: {
      const retry = parseRetryAfter(retryAfterHeader);
      const when = retry ? ` Please try again in ${retry} second${retry === 1 ? '' : 's'}.` : ' Please try again in a moment.';
      return new DetectError('busy', `The server is busy right now.${when}`, { ...extra, retryAfterSeconds: retry });
    }
    case 504:
      return new DetectError('timeout', 'The server took too long to process that image. Please try again.', extra);
    default:
      return new DetectError('server',
        `Something went wrong on the server (HTTP ${status}${problem.title ? `: ${problem.title}` : ''}).`, extra);
  }
}

function parseRetryAfter(value) {
  if (!value) return 0;
  const n = Number(value);
  if (Number.isFinite(n) && n >= 0) return Math.ceil(n);
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, Math.ceil((date - Date.now()) / 1000)) : 0;
}

export function formatBytes(n) {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(n % (1024 * 1024) === 0 ? 0 : 1)} MB`;
  if (n >= 1024) return `${Math.round(n / 1024)} KB`;
  return `${n} bytes`;
}

async function fetchWithTimeout(url, init, timeoutMs) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    return await fetch(url, { ...init, signal: controller.signal });
  } finally {
    clearTimeout(timer);
  }
}

function positiveNumber(v, fallback) {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : fallback;
}
function clamp01(v, fallback) {
  return typeof v === 'number' && v >= 0 && v <= 1 ? v : fallback;
}
