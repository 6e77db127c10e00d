// Live camera mode: frames from getUserMedia go to /api/v1/detect one at a time; boxes drawn over the video.
import { detect } from './api.js';
import { drawDetections, objectListItem } from './draw.js';
import { canvasToBlob } from './image.js';

const FRAME_MAX_SIDE = 640;
const FRAME_QUALITY = 0.8;
const FRAME_TIMEOUT_MS = 10_000;
const FPS_WINDOW_MS = 3000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * @param {{getFilter: () => (d: object) => boolean, getModel?: () => string, showError: (m: string) => void, clearError: () => void}} deps
 */
export function createLive(deps) {
  const $ = (id) => document.getElementById(id);
  const el = {
    stage: $('live-stage'),
    video: $('live-video'),
    overlay: $('live-overlay'),
    start: $('live-start'),
    stop: $('live-stop'),
    select: $('camera-select'),
    fps: $('live-fps'),
    latency: $('live-latency'),
    count: $('live-count'),
    list: $('live-objects-list'),
  };

  const s = {
    stream: null,
    running: false,
    session: 0,          // bumps on every start/stop so stale loops end
    controller: null,
    frameCanvas: document.createElement('canvas'),
    lastResult: null,    // server JSON for the last frame, boxes in frame pixels
    completed: [],       // completion times of recent frames
    frames: 0,
    fps: 0,
    latencyMs: 0,
  };

  function visible() {
    const f = deps.getFilter();
    return s.lastResult ? s.lastResult.detections.filter(f) : [];
  }

  async function listCameras(activeId) {
    let devices = [];
    try { devices = await navigator.mediaDevices.enumerateDevices(); } catch { /* keep the default entry */ }
    const cams = devices.filter((d) => d.kind === 'videoinput');
    const keep = el.select.value;
    el.select.replaceChildren();
    if (cams.length === 0) {
      el.select.append(new Option('Default camera', ''));
      return;
    }
    cams.forEach((c, i) => el.select.append(new Option(c.label || `Camera ${i + 1}`, c.deviceId)));
    const want = activeId || keep;
    if (want && cams.some((c) => c.deviceId === want)) el.select.value = want;
  }

  function cameraErrorMessage(err) {
    switch (err?.name) {
      case 'NotAllowedError':
      case 'SecurityError':
        return 'Camera access was blocked. Allow the camera for this site in your browser settings, then press Start camera again.';
      case 'NotFoundError':
      case 'OverconstrainedError':
        return 'No camera was found. Connect a camera or choose another one.';
      case 'NotReadableError':
        return 'The camera is in use by another application, or could not be started.';
      default:
        return 'The camera could not be started.';
    }
  }

  async function start() {
    if (!navigator.mediaDevices?.getUserMedia) {
      deps.showError('The camera is only available when this page is opened over HTTPS or from localhost.');
      return;
    }
    await stop();
    const session = ++s.session;
    deps.clearError();
    el.start.disabled = true;
    const deviceId = el.select.value;
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: false,
        video: deviceId ? { deviceId: { exact: deviceId } } : { width: { ideal: 1280 }, height: { ideal: 720 } },
      });
    } catch (err) {
      el.start.disabled = false;
      deps.showError(cameraErrorMessage(err));
      return;
    }
    if (session !== s.session) { stream.getTracks().forEach((t) => t.stop()); return; }
    s.stream = stream;
    el.video.srcObject = stream;
    try { await el.video.play(); } catch { /* autoplay of a muted video is allowed; ignore */ }
    const active = stream.getVideoTracks()[0]?.getSettings().deviceId;
    await listCameras(active);
    s.running = true;
    s.completed = [];
    s.frames = 0;
    s.lastResult = null;
    el.stage.classList.add('running');
    el.stop.disabled = false;
    el.start.disabled = true;
    el.stage.dataset.state = 'running';
    loop(session);
  }

  async function stop() {
    s.session++;
    s.running = false;
    s.controller?.abort();
    s.controller = null;
    s.stream?.getTracks().forEach((t) => t.stop());
    s.stream = null;
    el.video.srcObject = null;
    el.stage.classList.remove('running');
    el.stage.dataset.state = 'stopped';
    el.start.disabled = false;
    el.stop.disabled = true;
    s.fps = 0;
    el.fps.textContent = '0.0';
    const ctx = el.overlay.getContext('2d');
    ctx.clearRect(0, 0, el.overlay.width, el.overlay.height);
  }

  function grabFrame() {
    const v = el.video;
    const scale = Math.min(1, FRAME_MAX_SIDE / Math.max(v.videoWidth, v.videoHeight));
    const w = Math.max(1, Math.round(v.videoWidth * scale));
    const h = Math.max(1, Math.round(v.videoHeight * scale));
    const c = s.frameCanvas;
    if (c.width !== w || c.height !== h) { c.width = w; c.height = h; }
    c.getContext('2d').drawImage(v, 0, 0, w, h);
    return canvasToBlob(c, 'image/jpeg', FRAME_QUALITY);
  }

  async function loop(session) {
    while (session === s.session) {
      if (el.video.readyState < 2 || !el.video.videoWidth) { await sleep(50); continue; }
      const blob = await grabFrame();
      if (session !== s.session) return;
      const controller = new AbortController();
      s.controller = controller;
      const t0 = performance.now();
      try {
        const res = await detect(blob, { conf: 0.05, model: deps.getModel?.(), signal: controller.signal, timeoutMs: FRAME_TIMEOUT_MS });
        if (session !== s.session) return;
        const now = performance.now();
        s.latencyMs = now - t0;
        s.completed.push(now);
        while (s.completed.length && now - s.completed[0] > FPS_WINDOW_MS) s.completed.shift();
        const n = s.completed.length;
        s.fps = n > 1 ? ((n - 1) * 1000) / (s.completed[n - 1] - s.completed[0]) : 0;
        s.frames++;
        res.detections.sort((a, b) => b.score - a.score);
        s.lastResult = res;
        deps.clearError();
        render();
      } catch (err) {
        if (session !== s.session || err.kind === 'aborted') return;
        deps.showError(`Live detection paused: ${err.message}`);
        await sleep(err.kind === 'busy' && err.retryAfterSeconds ? err.retryAfterSeconds * 1000 : 1000);
      }
    }
  }

  function render() {
    el.fps.textContent = s.fps.toFixed(1);
    const server = s.lastResult?.timings?.total_ms;
    el.latency.textContent = `${Math.round(s.latencyMs)} ms` + (typeof server === 'number' ? ` (server ${Math.round(server)} ms)` : '');
    const shown = visible();
    el.count.textContent = String(shown.length);
    drawOverlay(shown);
    el.list.replaceChildren(...shown.map(objectListItem));
  }

  function drawOverlay(shown) {
    const v = el.video;
    const canvas = el.overlay;
    const dpr = window.devicePixelRatio || 1;
    const cw = Math.max(1, Math.round(v.clientWidth * dpr));
    const ch = Math.max(1, Math.round(v.clientHeight * dpr));
    if (canvas.width !== cw || canvas.height !== ch) { canvas.width = cw; canvas.height = ch; }
    const ctx = canvas.getContext('2d');
    ctx.clearRect(0, 0, cw, ch);
    const res = s.lastResult;
    if (!res || !v.videoWidth) return;
    // The video is drawn with object-fit: contain; find the picture inside the element.
    const fit = Math.min(cw / v.videoWidth, ch / v.videoHeight);
    const pw = v.videoWidth * fit;
    const ph = v.videoHeight * fit;
    const ox = (cw - pw) / 2;
    const oy = (ch - ph) / 2;
    drawDetections(ctx, shown, {
      scale: pw / res.image.width,
      offsetX: ox,
      offsetY: oy,
      lineWidth: 2 * dpr,
      fontSize: Math.round(13 * dpr),
      width: pw,
      height: ph,
    });
    canvas.dataset.drawn = String(shown.length);
  }

  el.start.addEventListener('click', () => { start(); });
  el.stop.addEventListener('click', () => { stop(); el.start.focus(); });
  el.select.addEventListener('change', () => { if (s.running) start(); });
  navigator.mediaDevices?.addEventListener?.('devicechange', () => listCameras(el.select.value));
  window.addEventListener('resize', () => { if (s.running) drawOverlay(visible()); });
  listCameras('');

  return {
    start,
    stop,
    get running() { return s.running; },
    hook: {
      get lastResult() { return s.lastResult; },
      get fps() { return s.fps; },
      get frames() { return s.frames; },
      get running() { return s.running; },
      visibleDetections: () => visible().map((d) => ({ ...d, box: { ...d.box } })),
    },
  };
}
