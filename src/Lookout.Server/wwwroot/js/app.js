// Lookout web page: upload / drop / paste a photo, see the objects, filter them, download results.
import { fetchConfig, fetchModels, detect, checkStatus, DEFAULT_CONFIG } from './api.js';
import { drawDetections, colorFor, hitTest, tagText, objectListItem } from './draw.js';
import { preparePhoto, canvasToBlob, saveBlob } from './image.js';
import { createLive } from './live.js';
import { createGallery } from './gallery.js';

const $ = (id) => document.getElementById(id);
const el = {
  error: $('error'),
  statusLight: $('status-light'),
  statusDot: $('status-dot'),
  tabPhoto: $('tab-photo'),
  tabLive: $('tab-live'),
  panelPhoto: $('panel-photo'),
  panelLive: $('panel-live'),
  dropzone: $('dropzone'),
  emptyState: $('empty-state'),
  fileInput: $('file-input'),
  result: $('result'),
  image: $('result-image'),
  caption: $('result-caption'),
  overlay: $('overlay'),
  processing: $('processing'),
  reset: $('reset'),
  downloadJpeg: $('download-jpeg'),
  downloadJson: $('download-json'),
  confSlider: $('conf-slider'),
  confValue: $('conf-value'),
  tileToggle: $('tile-toggle'),
  classFilter: $('class-filter'),
  classFilterEmpty: $('class-filter-empty'),
  objectsList: $('objects-list'),
  objectsCount: $('objects-count'),
  objectsEmpty: $('objects-empty'),
  timings: $('timings'),
  modelSelect: $('model-select'),
  answeredBy: $('answered-by'),
  examples: [...document.querySelectorAll('[data-example]')],
};

/** The confidence the page asks the server for; the slider filters above it without re-uploading. */
const REQUEST_CONF = 0.05;

/** Where the browser remembers the model picked (a name, never a path). */
const MODEL_STORAGE_KEY = 'lookout.model';

const state = {
  config: { ...DEFAULT_CONFIG },
  models: [],           // what GET /api/v1/models offers: {name, family, width, height, isDefault}
  model: '',            // the model picked; '' = the server's default
  lastUpload: null,     // { file, name } of the photo on screen, to run again when the model changes
  lastResult: null,     // the server's JSON for the photo on screen
  photo: null,          // { canvas, url, name, file } the upright image shown (≤ max_side) and the file it came from
  sent: null,           // what the last upload carried: { kind: 'original'|'upright-jpeg', reason, bytes }
  lastInput: null,      // { file, name } of that photo, to run it again when the tile switch changes
  conf: 0.25,
  excluded: new Set(),  // class labels the user switched off
  highlight: null,      // the detection whose box is emphasised
  controller: null,     // AbortController of the request in flight
  requestId: 0,
  errorSource: null,
};

// ---------------------------------------------------------------- errors

function showError(message, source = 'photo') {
  el.error.textContent = message;
  el.error.hidden = false;
  el.error.dataset.source = source;
  state.errorSource = source;
}

function clearError(source) {
  if (source && state.errorSource && state.errorSource !== source) return;
  el.error.hidden = true;
  el.error.textContent = '';
  delete el.error.dataset.source;
  state.errorSource = null;
}

// ---------------------------------------------------------------- filters

function passesFilter(d) {
  return d.score >= state.conf - 1e-9 && !state.excluded.has(d.label);
}

function visibleDetections() {
  return state.lastResult ? state.lastResult.detections.filter(passesFilter) : [];
}

function setConf(value) {
  state.conf = Math.min(1, Math.max(0, value));
  el.confSlider.value = String(state.conf);
  el.confValue.value = `${Math.round(state.conf * 100)}%`;
  el.confValue.textContent = el.confValue.value;
}

function renderClassFilter() {
  const dets = filterableDetections();
  // Classes with something above the threshold, plus the ones the user switched off (to switch back on).
  const byClass = new Map();
  for (const d of dets) {
    const entry = byClass.get(d.label) ?? { label: d.label, classId: d.class_id, best: 0, count: 0 };
    entry.best = Math.max(entry.best, d.score);
    if (d.score >= state.conf - 1e-9) entry.count++;
    byClass.set(d.label, entry);
  }
  const classes = [...byClass.values()]
    .filter((c) => c.count > 0 || state.excluded.has(c.label))
    .sort((a, b) => b.best - a.best);

  for (const node of [...el.classFilter.querySelectorAll('label')]) node.remove();
  el.classFilterEmpty.hidden = classes.length > 0;
  for (const c of classes) {
    const label = document.createElement('label');
    label.dataset.class = c.label;
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.value = c.label;
    box.checked = !state.excluded.has(c.label);
    box.dataset.testid = `class-${c.label}`;
    box.style.setProperty('--c', colorFor(c.classId));
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    swatch.style.setProperty('--c', colorFor(c.classId));
    const text = document.createElement('span');
    text.textContent = `${c.label} (${c.count})`;
    label.append(box, swatch, text);
    el.classFilter.append(label);
  }
}

function renderObjectsList() {
  const visible = visibleDetections();
  el.objectsList.replaceChildren();
  const all = state.lastResult?.detections ?? [];
  for (const d of visible) {
    const li = objectListItem(d);
    li.tabIndex = 0;
    li.dataset.index = String(all.indexOf(d));
    li.dataset.score = String(d.score);
    li.setAttribute('aria-label', `${d.label}, ${Math.round(d.score * 100)} percent`);
    if (d === state.highlight) li.classList.add('active');
    el.objectsList.append(li);
  }
  el.objectsCount.textContent = state.lastResult ? String(visible.length) : '';
  el.objectsEmpty.hidden = state.lastResult !== null && visible.length > 0;
  el.objectsEmpty.textContent = state.lastResult
    ? (all.length ? 'Nothing above this confidence. Lower the slider or switch classes back on.'
                  : 'No objects found that the model was trained to detect.')
    : 'Upload a photo to see what Lookout finds.';
}

function renderOverlay() {
  const canvas = el.overlay;
  const ctx = canvas.getContext('2d');
  const res = state.lastResult;
  const w = el.image.clientWidth;
  const h = el.image.clientHeight;
  const dpr = window.devicePixelRatio || 1;
  const cw = Math.max(1, Math.round(w * dpr));
  const ch = Math.max(1, Math.round(h * dpr));
  if (canvas.width !== cw || canvas.height !== ch) { canvas.width = cw; canvas.height = ch; }
  ctx.clearRect(0, 0, cw, ch);
  if (!res || !w || !h) { canvas.dataset.drawn = '0'; return; }
  const visible = visibleDetections();
  const highlight = visible.includes(state.highlight) ? state.highlight : null;
  drawDetections(ctx, visible, {
    scale: cw / res.image.width,
    lineWidth: 2 * dpr,
    fontSize: Math.round((w < 480 ? 11 : 13) * dpr),
    highlight,
    width: cw,
    height: ch,
  });
  canvas.dataset.drawn = String(visible.length);
  el.caption.textContent = visible.length
    ? `Found: ${visible.map(tagText).join(', ')}.`
    : 'No objects shown.';
}

function renderTimings(res, roundTripMs) {
  const t = res?.timings ?? {};
  const fmt = (v) => (typeof v === 'number' ? `${v.toFixed(1)} ms` : '—');
  for (const dd of el.timings.querySelectorAll('[data-timing]')) {
    const key = dd.dataset.timing;
    if (!res) dd.textContent = '—';
    else if (key === 'model') dd.textContent = res.model ?? '—';
    else if (key === 'image') dd.textContent = res.image ? `${res.image.width} × ${res.image.height}` : '—';
    else if (key === 'round_trip_ms') dd.textContent = fmt(roundTripMs);
    else dd.textContent = fmt(t[key]);
  }
}

function findModel(name) {
  return state.models.find((m) => m.name.toLowerCase() === String(name ?? '').toLowerCase());
}

/** "yolox-nano (416 × 416)": the model that answered, with its input size when the list knows it. */
function renderAnsweredBy(res) {
  if (!res?.model) {
    el.answeredBy.textContent = '—';
    delete el.answeredBy.dataset.model;
    return;
  }
  const info = findModel(res.model);
  el.answeredBy.textContent = info?.width ? `${res.model} (${info.width} × ${info.height})` : res.model;
  el.answeredBy.dataset.model = res.model;
}

function renderAll() {
  renderClassFilter();
  renderObjectsList();
  renderOverlay();
  gallery.refresh();
}

/** Re-filter without a new request: slider, class checkboxes. */
function refilter() {
  if (state.highlight && !passesFilter(state.highlight)) state.highlight = null;
  renderObjectsList();
  renderOverlay();
  gallery.refresh();
}

function setHighlight(det) {
  if (state.highlight === det) return;
  state.highlight = det;
  const all = state.lastResult?.detections ?? [];
  for (const li of el.objectsList.children) {
    li.classList.toggle('active', det !== null && all[Number(li.dataset.index)] === det);
  }
  renderOverlay();
}

// ---------------------------------------------------------------- detection

function setBusy(busy) {
  el.processing.hidden = !busy;
  el.dropzone.setAttribute('aria-busy', String(busy));
  for (const b of el.examples) b.disabled = busy;
}

function showPhoto(url) {
  el.emptyState.hidden = true;
  el.result.hidden = false;
  el.dropzone.dataset.state = 'result';
  if (el.image.src !== url) el.image.src = url;
}

function resetView() {
  state.controller?.abort();
  state.controller = null;
  state.requestId++;
  state.lastResult = null;
  state.highlight = null;
  state.excluded.clear();
  releasePhoto();
  gallery.clear();
  el.image.removeAttribute('src');
  el.result.hidden = true;
  el.emptyState.hidden = false;
  el.dropzone.dataset.state = 'empty';
  el.fileInput.value = '';
  setBusy(false);
  el.reset.disabled = true;
  el.downloadJpeg.disabled = true;
  el.downloadJson.disabled = true;
  renderTimings(null);
  renderAll();
}

/**
 * The one path every photo takes: file input, drop, paste, examples.
 * @param {Blob} file
 * @param {string} name a base name for downloads
 */
async function runDetection(file, name) {
  state.lastInput = { file, name };
  clearError();
  gallery.clear();
  state.lastUpload = { file, name };
  state.controller?.abort();
  const id = ++state.requestId;
  const controller = new AbortController();
  state.controller = controller;
  setBusy(true);

  let prepared;
  try {
    prepared = await preparePhoto(file, uploadLimits(), name);
  } catch (err) {
    if (id !== state.requestId) return;
    setBusy(false);
    showError(err.message || 'This file could not be opened as an image.');
    return;
  }
  if (id !== state.requestId) return;

  // Show the (upright, shrunk) photo at once, with "Processing…" over it.
  releasePhoto();
  const url = URL.createObjectURL(prepared.displayBlob);
  state.photo = { canvas: prepared.canvas, url, name: baseName(name), file: prepared.sent === 'original' ? file : null };
  state.sent = { kind: prepared.sent, reason: prepared.reason, bytes: prepared.upload.size };
  state.lastResult = null;
  state.highlight = null;
  state.excluded.clear();
  renderAll();
  renderTimings(null);
  renderAnsweredBy(null);
  showPhoto(url);
  el.reset.disabled = false;
  el.downloadJpeg.disabled = true;
  el.downloadJson.disabled = true;

  const t0 = performance.now();
  try {
    // The original bytes when the server takes them: the same answer as /api/v1/detect with this file.
    const res = await detect(prepared.upload, {
      fileName: prepared.uploadName,
      conf: REQUEST_CONF,
      tile: el.tileToggle?.checked ? 'auto' : undefined,
      model: state.model,
      signal: controller.signal,
      maxUploadBytes: state.config.max_upload_bytes,
      // Wait as long as the server's own deadline, plus time for the upload; the original waited 25 s.
      timeoutMs: state.config.request_timeout_seconds ? (state.config.request_timeout_seconds + 2) * 1000 : undefined,
    });
    if (id !== state.requestId) return;
    const roundTrip = performance.now() - t0;
    res.detections.sort((a, b) => b.score - a.score);
    state.lastResult = res;
    renderTimings(res, roundTrip);
    renderAnsweredBy(res);
    renderAll();
    // A folder model's input size is known once it has loaded: fetch the list again to show it.
    if (!findModel(res.model)?.width) loadModels().then(() => renderAnsweredBy(state.lastResult));
    el.downloadJpeg.disabled = false;
    el.downloadJson.disabled = false;
    el.dropzone.dataset.result = 'ready';
  } catch (err) {
    if (id !== state.requestId || err.kind === 'aborted') return;
    showError(err.message);
    if (err.kind === 'unknown-model') loadModels();
    // No result to show for this photo: go back to the start, keeping the message.
    resetView();
    el.dropzone.dataset.result = 'error';
  } finally {
    if (id === state.requestId) {
      setBusy(false);
      state.controller = null;
    }
  }
}

/** The server's limits, as /api/v1/config gives them: beyond them the page uploads its own upright JPEG. */
function uploadLimits() {
  return { maxSide: state.config.max_side, maxUploadBytes: state.config.max_upload_bytes, maxPixels: state.config.max_pixels };
}

function baseName(name) {
  const n = String(name || 'photo').split(/[\\/]/).pop().replace(/\.[^.]+$/, '');
  return n.replace(/[^\w.-]+/g, '_').slice(0, 60) || 'photo';
}

// ---------------------------------------------------------------- downloads

async function downloadAnnotatedJpeg() {
  const res = state.lastResult;
  const photo = state.photo;
  if (!res || !photo) return;
  const canvas = document.createElement('canvas');
  canvas.width = res.image.width;
  canvas.height = res.image.height;
  const ctx = canvas.getContext('2d');
  // The boxes are in the uploaded photo's pixels: when that was the original, draw on its full-size pixels,
  // not on the shrunk canvas shown in the page.
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const full = photo.file ? await createImageBitmap(photo.file, { imageOrientation: 'from-image' }).catch(() => null) : null;
  ctx.drawImage(full ?? photo.canvas, 0, 0, canvas.width, canvas.height);
  full?.close();
  const longest = Math.max(canvas.width, canvas.height);
  drawDetections(ctx, visibleDetections(), {
    scale: 1,
    lineWidth: Math.max(3, Math.round(longest / 320)),
    fontSize: Math.max(14, Math.round(longest / 50)),
    width: canvas.width,
    height: canvas.height,
  });
  const blob = await canvasToBlob(canvas, 'image/jpeg', 0.92);
  saveBlob(blob, `${photo.name}-lookout.jpg`);
}

function downloadJson() {
  if (gallery.active) { downloadGalleryJson(); return; }
  const res = state.lastResult;
  if (!res) return;
  const blob = new Blob([JSON.stringify(res, null, 2)], { type: 'application/json' });
  saveBlob(blob, `${state.photo?.name ?? 'photo'}-lookout.json`);
}

// ---------------------------------------------------------------- gallery (several photos at once)

/** The photo on screen came from runDetection (its URL is ours to free) or from the gallery (the gallery's). */
function releasePhoto() {
  if (state.photo && !state.photo.fromGallery) URL.revokeObjectURL(state.photo.url);
  state.photo = null;
}

/** With a gallery on screen the filters act on every photo, so the class list covers all of them. */
function filterableDetections() {
  return gallery.active ? gallery.allDetections() : (state.lastResult?.detections ?? []);
}

const gallery = createGallery({
  getConfig: () => state.config,
  requestConf: REQUEST_CONF,
  // The gallery's photos go to the model picked and with the tile switch, like a single photo.
  getModel: () => state.model,
  getTile: () => (el.tileToggle?.checked ? 'auto' : undefined),
  passesFilter: (d) => passesFilter(d),
  onOpen: (item) => openGalleryPhoto(item),
  onChange: () => {
    renderClassFilter();
    el.downloadJson.disabled = !gallery.hasResults();
  },
  showError: (message) => showError(message),
});

function startGallery(files) {
  clearError();
  // A single photo's request in flight is replaced by the gallery.
  state.controller?.abort();
  state.controller = null;
  state.requestId++;
  releasePhoto();
  state.lastResult = null;
  state.highlight = null;
  state.excluded.clear();
  el.image.removeAttribute('src');
  el.result.hidden = true;
  el.emptyState.hidden = false;
  el.dropzone.dataset.state = 'empty';
  setBusy(false);
  renderTimings(null);
  el.reset.disabled = false;
  el.downloadJpeg.disabled = true;
  el.downloadJson.disabled = true;
  gallery.start(files).then(() => { el.fileInput.value = ''; });
  renderAll();
}

/** Opens a finished gallery photo in the usual view; the filters stay as they are, for every photo. */
function openGalleryPhoto(item) {
  clearError('photo');
  releasePhoto();
  state.photo = { canvas: item.canvas, url: item.url, name: baseName(item.name), file: item.sent === 'original' ? item.file : null, fromGallery: true };
  state.lastResult = item.result;
  state.highlight = null;
  renderTimings(item.result, null);
  showPhoto(item.url);
  renderAll();
  el.downloadJpeg.disabled = false;
  el.dropzone.dataset.result = 'ready';
}

function downloadGalleryJson() {
  const blob = new Blob([JSON.stringify(gallery.json(), null, 2)], { type: 'application/json' });
  saveBlob(blob, 'photos-lookout.json');
}

// ---------------------------------------------------------------- server status light

function setStatus(online) {
  const s = online ? 'online' : 'offline';
  if (el.statusLight.dataset.state === s) return;
  el.statusLight.dataset.state = s;
  el.statusDot.dataset.state = s;
  el.statusLight.textContent = s;
}

async function pollStatus() {
  const started = performance.now();
  setStatus(await checkStatus(1500));
  setTimeout(pollStatus, Math.max(250, 2000 - (performance.now() - started)));
}

// ---------------------------------------------------------------- tabs

function selectTab(tab) {
  const live = tab === el.tabLive;
  el.tabPhoto.setAttribute('aria-selected', String(!live));
  el.tabLive.setAttribute('aria-selected', String(live));
  el.tabPhoto.tabIndex = live ? -1 : 0;
  el.tabLive.tabIndex = live ? 0 : -1;
  el.panelPhoto.hidden = live;
  el.panelLive.hidden = !live;
  if (!live) live_.stop();
  clearError();
}

// ---------------------------------------------------------------- wiring

const live_ = createLive({
  getFilter: () => passesFilter,
  getModel: () => state.model,
  showError: (m) => showError(m, 'live'),
  clearError: () => clearError('live'),
});

function wire() {
  el.fileInput.addEventListener('change', () => {
    const files = [...(el.fileInput.files ?? [])];
    if (files.length > 1) startGallery(files);
    else if (files.length === 1) runDetection(files[0], files[0].name);
  });

  for (const b of el.examples) {
    b.addEventListener('click', async () => {
      const name = b.dataset.example;
      const url = b.dataset.url;
      clearError();
      try {
        const res = await fetch(url);
        if (!res.ok) throw new Error(String(res.status));
        await runDetection(await res.blob(), name);
      } catch {
        showError(`The example image "${name}" could not be loaded from the server.`);
      }
    });
  }

  // Drag and drop anywhere on the photo tab; the drop zone lights up.
  let dragDepth = 0;
  const hasFiles = (e) => [...(e.dataTransfer?.types ?? [])].includes('Files');
  document.addEventListener('dragenter', (e) => {
    if (!hasFiles(e) || el.panelPhoto.hidden) return;
    e.preventDefault();
    dragDepth++;
    el.dropzone.classList.add('dragging');
  });
  document.addEventListener('dragover', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = el.panelPhoto.hidden ? 'none' : 'copy';
  });
  document.addEventListener('dragleave', () => {
    dragDepth = Math.max(0, dragDepth - 1);
    if (dragDepth === 0) el.dropzone.classList.remove('dragging');
  });
  document.addEventListener('drop', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    dragDepth = 0;
    el.dropzone.classList.remove('dragging');
    if (el.panelPhoto.hidden) return;
    const files = [...(e.dataTransfer.files ?? [])];
    if (files.length > 1) startGallery(files);
    else if (files.length === 1) runDetection(files[0], files[0].name);
  });

  // Paste an image from the clipboard.
  document.addEventListener('paste', (e) => {
    if (el.panelPhoto.hidden) return;
    const item = [...(e.clipboardData?.items ?? [])].find((i) => i.kind === 'file' && i.type.startsWith('image/'));
    const file = item?.getAsFile();
    if (!file) return;
    e.preventDefault();
    runDetection(file, file.name && file.name !== 'image.png' ? file.name : 'pasted');
  });

  el.reset.addEventListener('click', () => { clearError(); resetView(); el.fileInput.focus(); });
  el.downloadJpeg.addEventListener('click', () => {
    downloadAnnotatedJpeg().catch(() => showError('The annotated image could not be created in this browser.'));
  });
  el.downloadJson.addEventListener('click', downloadJson);

  // Tiling changes what the server finds, so the photo on screen is sent again.
  el.tileToggle?.addEventListener('change', () => {
    if (state.lastInput) runDetection(state.lastInput.file, state.lastInput.name);
  });
  el.confSlider.addEventListener('input', () => {
    setConf(Number(el.confSlider.value));
    renderClassFilter();
    refilter();
  });
  el.classFilter.addEventListener('change', (e) => {
    const box = e.target;
    if (!(box instanceof HTMLInputElement)) return;
    if (box.checked) state.excluded.delete(box.value); else state.excluded.add(box.value);
    refilter();
  });

  // List ↔ box highlighting.
  const detFromLi = (li) => (li ? state.lastResult?.detections[Number(li.dataset.index)] ?? null : null);
  el.objectsList.addEventListener('pointerover', (e) => setHighlight(detFromLi(e.target.closest('li'))));
  el.objectsList.addEventListener('pointerleave', () => {
    setHighlight(detFromLi(el.objectsList.querySelector('li:focus')));
  });
  el.objectsList.addEventListener('focusin', (e) => setHighlight(detFromLi(e.target.closest('li'))));
  el.objectsList.addEventListener('focusout', (e) => {
    if (!el.objectsList.contains(e.relatedTarget)) setHighlight(null);
  });
  el.objectsList.addEventListener('keydown', (e) => {
    const li = e.target.closest('li');
    if (!li) return;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      (e.key === 'ArrowDown' ? li.nextElementSibling : li.previousElementSibling)?.focus();
    }
  });
  el.overlay.addEventListener('pointermove', (e) => {
    const res = state.lastResult;
    if (!res) return;
    const r = el.overlay.getBoundingClientRect();
    const s = res.image.width / r.width;
    setHighlight(hitTest(visibleDetections(), (e.clientX - r.left) * s, (e.clientY - r.top) * s));
  });
  el.overlay.addEventListener('pointerleave', () => setHighlight(null));

  el.image.addEventListener('load', renderOverlay);
  new ResizeObserver(() => renderOverlay()).observe(el.image);

  // Tabs (arrow keys move between them, as in the ARIA tabs pattern).
  for (const tab of [el.tabPhoto, el.tabLive]) {
    tab.addEventListener('click', () => selectTab(tab));
    tab.addEventListener('keydown', (e) => {
      if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight' && e.key !== 'Home' && e.key !== 'End') return;
      e.preventDefault();
      const other = tab === el.tabPhoto ? el.tabLive : el.tabPhoto;
      const target = e.key === 'Home' ? el.tabPhoto : e.key === 'End' ? el.tabLive : other;
      target.focus();
      selectTab(target);
    });
  }
}

// ---------------------------------------------------------------- model picker

function storedModel() {
  try { return localStorage.getItem(MODEL_STORAGE_KEY) || ''; } catch { return ''; }
}

function storeModel(name) {
  try {
    if (name) localStorage.setItem(MODEL_STORAGE_KEY, name);
    else localStorage.removeItem(MODEL_STORAGE_KEY);
  } catch { /* storage off (private mode): the choice lasts until the page is closed */ }
}

function modelLabel(m) {
  const size = m.width ? ` — ${m.width === m.height ? m.width : `${m.width} × ${m.height}`} px` : '';
  return `${m.name}${size}${m.isDefault ? ' (default)' : ''}`;
}

/** Fills the picker from the server's list; a remembered model the server no longer has falls back to the default. */
async function loadModels() {
  const { models } = await fetchModels();
  state.models = models;
  const wanted = storedModel();
  const match = models.find((m) => m.name.toLowerCase() === wanted.toLowerCase());
  state.model = match ? match.name : '';
  if (wanted && !match) storeModel('');

  const select = el.modelSelect;
  select.replaceChildren();
  const auto = document.createElement('option');
  auto.value = '';
  const def = models.find((m) => m.isDefault);
  auto.textContent = def ? `Server default (${def.name})` : 'Server default';
  select.append(auto);
  for (const m of models) {
    const option = document.createElement('option');
    option.value = m.name;
    option.textContent = modelLabel(m);
    option.dataset.family = m.family;
    select.append(option);
  }
  select.value = state.model;
  select.disabled = models.length === 0;
  select.dataset.ready = 'true';
}

function wireModelPicker() {
  el.modelSelect.addEventListener('change', () => {
    state.model = el.modelSelect.value;
    storeModel(state.model);
    // The photo on screen is run again, so the answer always matches the model shown.
    if (state.lastUpload && !state.controller) runDetection(state.lastUpload.file, state.lastUpload.name);
  });
}

// ---------------------------------------------------------------- test hook

window.lookout = {
  get lastResult() { return state.lastResult; },
  /** The detections currently drawn on #overlay after the slider and class filter. */
  visibleDetections: () => visibleDetections().map((d) => ({ ...d, box: { ...d.box } })),
  get config() { return state.config; },
  /** What the last single-photo upload carried: { kind: 'original'|'upright-jpeg', reason, bytes }. */
  get sent() { return state.sent; },
  get model() { return state.model; },
  live: live_.hook,
  gallery: gallery.hook,
};

async function init() {
  setConf(state.conf);
  wire();
  wireModelPicker();
  pollStatus();
  await loadModels();
  state.config = await fetchConfig();
  setConf(state.config.default_conf);
  renderAll();
  document.documentElement.dataset.ready = 'true';
}

init();
