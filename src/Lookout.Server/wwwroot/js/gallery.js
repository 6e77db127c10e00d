// Several photos at once. Each is prepared in the browser exactly like a single photo (an upright canvas shrunk
// to max_side to show; the original file uploaded whenever the server takes it, so each photo gets the answer
// /api/v1/detect gives for that file), then uploaded a few per request to POST /api/v1/detect (the 'images'
// part, within the server's byte limit for the whole request), and shown as a tile with its object count. Clicking a tile opens it in the page's usual view; the filters act on every tile.
import { detectMany } from './api.js';
import { preparePhoto, MULTIPART_OVERHEAD_BYTES } from './image.js';

/** Photos per request: enough to keep the server's slots busy, few enough that progress moves steadily. */
export const PHOTOS_PER_REQUEST = 3;

/**
 * @param {{
 *   getConfig: () => object,
 *   requestConf: number,
 *   passesFilter: (d: object) => boolean,
 *   onOpen: (item: object) => void,      // show a finished photo in the main view
 *   onChange: () => void,                // results arrived: the filters' class list and the downloads may change
 *   showError: (message: string) => void,
 * }} host
 */
export function createGallery(host) {
  const section = document.getElementById('gallery');
  const list = document.getElementById('gallery-list');
  const progressText = document.getElementById('gallery-progress');
  const progressBar = document.getElementById('gallery-bar');

  /** @type {Array<{index:number, name:string, file:Blob, url:string|null, canvas:HTMLCanvasElement|null,
   *   result:object|null, error:string|null, tile:HTMLLIElement, blob?:Blob|null, sent?:string}>} */
  let items = [];
  let controller = null;
  let openIndex = -1;
  let done = 0;
  let run = 0;

  function clear() {
    controller?.abort();
    controller = null;
    run++;
    for (const item of items) if (item.url) URL.revokeObjectURL(item.url);
    items = [];
    openIndex = -1;
    done = 0;
    list.replaceChildren();
    section.hidden = true;
    delete section.dataset.state;
  }

  /** Start a gallery of these files, replacing any gallery on screen. */
  async function start(files) {
    clear();
    const thisRun = run;
    controller = new AbortController();
    const signal = controller.signal;
    items = files.map((file, index) => ({
      index, name: file.name || `photo ${index + 1}`, file, url: null, canvas: null, result: null, error: null, tile: makeTile(index, file.name),
    }));
    list.replaceChildren(...items.map((item) => item.tile));
    section.hidden = false;
    section.dataset.state = 'running';
    renderProgress();

    const config = host.getConfig();
    const perRequest = Math.max(1, Math.min(PHOTOS_PER_REQUEST, config.max_images_per_request || PHOTOS_PER_REQUEST));
    for (let i = 0; i < items.length; i += perRequest) {
      const chunk = items.slice(i, i + perRequest);
      const prepared = await Promise.all(chunk.map((item) => prepare(item)));
      if (thisRun !== run) return;
      const ready = chunk.filter((item, k) => prepared[k]);
      for (const request of byUploadLimit(ready, config.max_upload_bytes)) {
        await upload(request, config, signal);
        if (thisRun !== run) return;
      }
      if (thisRun !== run) return;
      done += chunk.length;
      renderProgress();
    }
    section.dataset.state = 'done';
    controller = null;
  }

  /** Decode and shrink in the browser; a file that is no image fails in its tile without being sent. */
  async function prepare(item) {
    try {
      const config = host.getConfig();
      const p = await preparePhoto(item.file,
        { maxSide: config.max_side, maxUploadBytes: config.max_upload_bytes, maxPixels: config.max_pixels }, item.name);
      item.canvas = p.canvas;
      item.blob = p.upload;
      item.sent = p.sent;
      item.url = URL.createObjectURL(p.displayBlob);
      const img = item.tile.querySelector('img');
      img.src = item.url;
      img.hidden = false;
      return true;
    } catch (err) {
      fail(item, err.message || 'This file could not be opened as an image.');
      return false;
    }
  }

  /**
   * Splits photos into requests whose bodies stay within the server's limit for a whole request (originals can be
   * megabytes each); every photo alone fits, since preparePhoto sends its own JPEG for one that does not.
   */
  function byUploadLimit(ready, maxBytes) {
    const requests = [];
    let current = [];
    let bytes = MULTIPART_OVERHEAD_BYTES;
    for (const item of ready) {
      const size = item.blob.size + MULTIPART_OVERHEAD_BYTES;
      if (current.length && maxBytes && bytes + size > maxBytes) {
        requests.push(current);
        current = [];
        bytes = MULTIPART_OVERHEAD_BYTES;
      }
      current.push(item);
      bytes += size;
    }
    if (current.length) requests.push(current);
    return requests;
  }

  async function upload(ready, config, signal) {
    let answers;
    try {
      answers = await detectMany(ready.map((item) => ({ blob: item.blob, name: item.name })), {
        conf: host.requestConf,
        model: host.getModel?.(),
        tile: host.getTile?.(),
        signal,
        maxUploadBytes: config.max_upload_bytes,
        timeoutMs: config.request_timeout_seconds ? (config.request_timeout_seconds + 5) * 1000 : undefined,
      });
    } catch (err) {
      if (err.kind === 'aborted') return;
      // The whole request failed (busy, unreachable…): every photo in it says so.
      for (const item of ready) fail(item, err.message);
      return;
    }
    answers.forEach((answer, k) => {
      const item = ready[k];
      item.blob = null;   // the canvas (and item.file) keep the pixels for the annotated download
      if (answer.error) { fail(item, answer.error.message); return; }
      answer.result.detections.sort((a, b) => b.score - a.score);
      item.result = answer.result;
      renderTile(item);
    });
    host.onChange();
    if (openIndex < 0) {
      const first = items.find((item) => item.result);
      if (first) open(first.index);
    }
  }

  function fail(item, message) {
    item.error = message;
    renderTile(item);
  }

  function makeTile(index, name) {
    const li = document.createElement('li');
    li.className = 'gallery-tile';
    li.dataset.index = String(index);
    li.dataset.state = 'pending';
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'gallery-open';
    const img = document.createElement('img');
    img.alt = '';
    img.hidden = true;
    const caption = document.createElement('span');
    caption.className = 'gallery-caption';
    const title = document.createElement('span');
    title.className = 'gallery-name';
    title.textContent = name || `photo ${index + 1}`;
    const count = document.createElement('span');
    count.className = 'gallery-count';
    count.textContent = 'waiting…';
    caption.append(title, count);
    const error = document.createElement('span');
    error.className = 'gallery-error';
    error.hidden = true;
    button.append(img, caption, error);
    button.setAttribute('aria-label', `${title.textContent}: waiting`);
    button.addEventListener('click', () => open(index));
    li.append(button);
    return li;
  }

  function renderTile(item) {
    const li = item.tile;
    const button = li.querySelector('button');
    const count = li.querySelector('.gallery-count');
    const error = li.querySelector('.gallery-error');
    if (item.error) {
      li.dataset.state = 'error';
      count.textContent = 'failed';
      error.hidden = false;
      error.textContent = item.error;
      button.setAttribute('aria-label', `${item.name}: failed. ${item.error}`);
      delete li.dataset.count;
    } else if (item.result) {
      const n = item.result.detections.filter(host.passesFilter).length;
      li.dataset.state = 'done';
      li.dataset.count = String(n);
      count.textContent = `${n} object${n === 1 ? '' : 's'}`;
      button.setAttribute('aria-label', `${item.name}: ${count.textContent}`);
    }
    li.classList.toggle('open', item.index === openIndex);
    if (item.index === openIndex) button.setAttribute('aria-current', 'true'); else button.removeAttribute('aria-current');
  }

  function renderProgress() {
    const total = items.length;
    progressText.textContent = `${done} of ${total}`;
    progressText.dataset.done = String(done);
    progressText.dataset.total = String(total);
    progressBar.max = Math.max(1, total);
    progressBar.value = done;
  }

  function open(index) {
    const item = items[index];
    if (!item) return;
    if (item.error) { host.showError(`${item.name}: ${item.error}`); return; }
    if (!item.result) return;
    openIndex = index;
    for (const other of items) renderTile(other);
    host.onOpen(item);
  }

  // Arrow keys move between tiles, as between the objects in the list.
  list.addEventListener('keydown', (e) => {
    const li = e.target.closest('li');
    if (!li) return;
    const next = { ArrowRight: li.nextElementSibling, ArrowDown: li.nextElementSibling,
      ArrowLeft: li.previousElementSibling, ArrowUp: li.previousElementSibling }[e.key];
    if (e.key in { ArrowRight: 1, ArrowDown: 1, ArrowLeft: 1, ArrowUp: 1 }) {
      e.preventDefault();
      next?.querySelector('button')?.focus();
    }
  });

  return {
    start,
    clear,
    get active() { return items.length > 0; },
    /** Counts follow the filters: call after the slider or a class box changes. */
    refresh() { for (const item of items) renderTile(item); },
    /** Every detection of every finished photo (the class filter lists all of them). */
    allDetections() { return items.flatMap((item) => item.result?.detections ?? []); },
    hasResults() { return items.some((item) => item.result); },
    /** What "Download JSON" saves for a gallery: one item per photo, in the order they were chosen. */
    json() {
      return {
        results: items.map((item) => (item.result
          ? { file: item.name, ...item.result }
          : { file: item.name, error: item.error ?? 'not processed' })),
      };
    },
    hook: {
      get items() {
        return items.map((item) => ({
          name: item.name,
          state: item.tile.dataset.state,
          count: item.result ? item.result.detections.filter(host.passesFilter).length : null,
          error: item.error,
          sent: item.sent ?? null,
          detections: item.result?.detections.map((d) => ({ ...d, box: { ...d.box } })) ?? null,
        }));
      },
      get openIndex() { return openIndex; },
      get done() { return section.dataset.state === 'done'; },
    },
  };
}
