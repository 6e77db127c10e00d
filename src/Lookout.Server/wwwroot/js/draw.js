// Drawing detections: boxes with a filled tag "<label> <score>%" in matplotlib's tab10 colours.

/** matplotlib tab10, indexed by class_id % 10 (the original server's palette). */
export const TAB10 = Object.freeze([
  '#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd',
  '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf',
]);

export function colorFor(classId) {
  const i = Number.isInteger(classId) ? ((classId % 10) + 10) % 10 : 0;
  return TAB10[i];
}

/** Black or white, whichever reads better on the given #rrggbb colour. */
export function textColorOn(hex) {
  const n = parseInt(hex.slice(1), 16);
  const lin = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
  const L = 0.2126 * lin((n >> 16) & 255) + 0.7152 * lin((n >> 8) & 255) + 0.0722 * lin(n & 255);
  return L > 0.22 ? '#000000' : '#ffffff';
}

export function tagText(det) {
  return `${det.label} ${Math.round(det.score * 100)}%`;
}

const FONT_STACK = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Liberation Sans", sans-serif';

/**
 * Draw detections onto ctx.
 * Box coordinates are in image pixels; (x * scale + offsetX) gives canvas pixels.
 * @param {CanvasRenderingContext2D} ctx
 * @param {Array} detections
 * @param {{scale:number, offsetX?:number, offsetY?:number, lineWidth:number, fontSize:number,
 *          highlight?:object|null, width:number, height:number}} o   width/height: the drawable area in canvas pixels
 */
export function drawDetections(ctx, detections, o) {
  const ox = o.offsetX ?? 0;
  const oy = o.offsetY ?? 0;
  const hi = o.highlight ?? null;
  const rect = (d) => {
    const x1 = d.box.x1 * o.scale + ox;
    const y1 = d.box.y1 * o.scale + oy;
    return { x: x1, y: y1, w: (d.box.x2 - d.box.x1) * o.scale, h: (d.box.y2 - d.box.y1) * o.scale };
  };

  if (hi) {
    // Dim everything outside the highlighted box.
    const r = rect(hi);
    ctx.save();
    ctx.fillStyle = 'rgba(0, 0, 0, 0.45)';
    ctx.beginPath();
    ctx.rect(ox, oy, o.width, o.height);
    ctx.rect(r.x, r.y, r.w, r.h);
    ctx.fill('evenodd');
    ctx.restore();
  }

  ctx.font = `700 ${o.fontSize}px ${FONT_STACK}`;
  ctx.textBaseline = 'middle';
  const padX = Math.round(o.fontSize * 0.4);
  const tagH = Math.round(o.fontSize * 1.45);

  // Draw lower scores first so the strongest detections end up on top; the highlighted one last.
  const order = [...detections].sort((a, b) => a.score - b.score);
  if (hi) { order.splice(order.indexOf(hi), 1); order.push(hi); }

  for (const d of order) {
    const color = colorFor(d.class_id);
    const r = rect(d);
    const isHi = d === hi;
    ctx.globalAlpha = hi && !isHi ? 0.5 : 1;
    const lw = isHi ? o.lineWidth * 2 : o.lineWidth;
    ctx.lineWidth = lw;
    ctx.strokeStyle = color;
    ctx.strokeRect(r.x + lw / 2, r.y + lw / 2, Math.max(0, r.w - lw), Math.max(0, r.h - lw));

    const text = tagText(d);
    const tw = Math.ceil(ctx.measureText(text).width) + padX * 2;
    let tx = r.x;
    let ty = r.y - tagH;
    if (ty < oy) ty = r.y; // box touches the top edge: put the tag inside
    const maxX = ox + o.width - tw;
    if (tx > maxX) tx = Math.max(ox, maxX);
    ctx.fillStyle = color;
    ctx.fillRect(tx, ty, tw, tagH);
    ctx.fillStyle = textColorOn(color);
    ctx.fillText(text, tx + padX, ty + tagH / 2 + 0.5);
  }
  ctx.globalAlpha = 1;
}

/** Returns the smallest visible detection containing image point (x, y), or null. */
export function hitTest(detections, x, y) {
  let best = null;
  let bestArea = Infinity;
  for (const d of detections) {
    const b = d.box;
    if (x >= b.x1 && x <= b.x2 && y >= b.y1 && y <= b.y2) {
      const area = (b.x2 - b.x1) * (b.y2 - b.y1);
      if (area < bestArea) { best = d; bestArea = area; }
    }
  }
  return best;
}

/** One row of an objects list: colour swatch, label and score, as the Photo and Live tabs both show it. */
export function objectListItem(det) {
  const li = document.createElement('li');
  li.dataset.label = det.label;
  const swatch = document.createElement('span');
  swatch.className = 'swatch';
  swatch.style.setProperty('--c', colorFor(det.class_id));
  const name = document.createElement('span');
  name.className = 'obj-label';
  name.textContent = det.label;
  const score = document.createElement('span');
  score.className = 'obj-score';
  score.textContent = `${Math.round(det.score * 100)}%`;
  li.append(swatch, name, score);
  return li;
}
