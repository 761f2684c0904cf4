// overdash edit: the page. Talks to the local server (pipeline/commands/edit/server.py) over the
// routes of its contract; every picture shown is the server's render, never a guess drawn here.
// One file because the server serves its pages from a fixed table of names.

const $ = (id) => document.getElementById(id);
const ui = {
  size: $("size"), palette: $("palette"), add: $("add"), duplicate: $("duplicate"), del: $("delete"),
  groupTranslate: $("group-translate"), groupFrame: $("group-frame"), undo: $("undo"), redo: $("redo"),
  save: $("save"), status: $("status"), statusText: $("status-text"), reload: $("reload"), keep: $("keep"),
  pane: $("pane"), preview: $("preview"), background: $("background"), overlay: $("overlay"), boxes: $("boxes"),
  play: $("play"), time: $("time"), timeLabel: $("time-label"), info: $("info"),
  attributes: $("attributes"), attrsTitle: $("attrs-title"), error: $("error"), source: $("source"), path: $("path"),
};

const TEXT_IDLE_MS = 150;   // typing pause before the picture follows
const POLL_MS = 2000;       // how often the file on disk is checked for outside changes
const PLAY_MS = 200;        // ~5 pictures a second while playing
const ALIGNS = ["left", "centre", "right", ...["l", "m", "r"].flatMap((h) => [..."atmsbd"].map((v) => h + v))];

// --- talking to the server ---------------------------------------------------------------------

// The token comes once in the address; keep it in memory and take it out of the address bar
// (and so out of the history and of anything copied from it).
const token = new URLSearchParams(location.search).get("token") || "";
if (location.search) history.replaceState(null, "", location.pathname);

// File versions (`file_mtime`, `mtime`) are opaque strings from the server, sent back as they came.

async function api(path, body) {
  const init = { headers: { "X-Overdash-Token": token }, cache: "no-store" };
  if (body !== undefined) {
    init.method = "POST";
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const type = response.headers.get("Content-Type") || "";
  const text = await response.text();
  if (!type.includes("json")) throw new Error(`${path}: ${response.status} ${text.slice(0, 200)}`);
  const data = JSON.parse(text);
  if (!response.ok && data && data.ok === undefined) throw new Error(`${path}: ${response.status}`);
  return data;
}

function errorText(error) {
  if (!error) return "";
  if (typeof error === "string") return error;
  return error.line ? `line ${error.line}: ${error.message}` : String(error.message);
}

// --- state -------------------------------------------------------------------------------------

const state = {
  info: null,            // /api/state
  sizeId: "video",
  frame: 0,
  history: [], at: -1,   // source texts for undo/redo; history[at] is current
  saved: "",             // the text last loaded from or saved to disk
  mtime: null,           // the file's mtime (ns) that `saved` came from
  canSave: false,
  components: [],        // the last good render's components
  scale: 1,              // picture px per layout px, from the last good render
  values: {},            // metric -> formatted value at this frame
  picture: { width: 1920, height: 1080 },
  selected: [],          // element indices; the last one is the one the panel shows
  doc: null,             // the source parsed by DOMParser (null while it does not parse)
  elements: [],          // doc's elements inside <layout>, in document order = the server's index
  diskNotice: null,      // {mtime, source} of an outside change not yet answered
};

const current = () => ui.source.value;
const dirty = () => current() !== state.saved;
const sizeOf = (id) => state.info.sizes.find((s) => s.id === id) || state.info.sizes[0];

// --- rendering: only ever the latest request, never a queue --------------------------------------

const render = { busy: false, again: false, shown: null };

function requestRender() {
  if (render.busy) { render.again = true; return; }
  runRender();
}

async function runRender() {
  render.busy = true;
  render.again = false;
  const want = { source: current(), frame: state.frame, size: state.sizeId };
  try {
    const size = sizeOf(want.size);
    const bgUrl = `/api/background?frame=${want.frame}&size=${encodeURIComponent(want.size)}`;
    const bg = ui.background.getAttribute("src") === bgUrl ? null : preload(bgUrl);
    const answer = await api("/api/render", want);
    if (answer.ok) {
      if (!accepted.has(want.source)) {
        if (accepted.size > 500) accepted.clear();  // a long typing session: keep memory bounded
        accepted.add(want.source);
        if (current() === want.source) { parseSource(); drawAttributes(); }
      }
      const overlay = preload(answer.overlay);
      await Promise.all([bg, overlay]);   // swap both at once: background and dashboard of one frame
      if (bg) ui.background.src = bgUrl;
      ui.overlay.src = answer.overlay;
      state.picture = { width: size.width, height: size.height };
      state.components = answer.components;
      state.scale = answer.scale;
      state.values = answer.values || {};
      render.shown = want;
      showError(null);
      ui.info.textContent = `${size.width}×${size.height} · ${Math.round(answer.ms)} ms`;
      fitPreview();
      drawBoxes();
      refreshMetricOptions();
    } else {
      if (bg) { await bg; ui.background.src = bgUrl; }
      showError(answer.error);
    }
  } catch (err) {
    showError({ line: null, message: `render failed: ${err.message}` });
  } finally {
    render.busy = false;
    if (render.again) runRender();
  }
}

function preload(url) {
  const img = new Image();
  img.src = url;
  return img.decode().catch(() => undefined);
}

function showError(error) {
  ui.error.hidden = !error;
  ui.error.textContent = errorText(error);
  ui.source.classList.toggle("bad", Boolean(error));
}

// --- the picture: scaled to fit by CSS only; pointer positions map back by the display scale ----

function fitPreview() {
  const { width, height } = state.picture;
  const style = getComputedStyle(ui.pane);
  const w = ui.pane.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  const h = ui.pane.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
  const k = Math.max(0.01, Math.min(w / width, h / height));
  ui.preview.style.width = `${Math.round(width * k)}px`;
  ui.preview.style.height = `${Math.round(height * k)}px`;
}

/** Displayed px per picture px. */
const displayScale = () => ui.preview.clientWidth / state.picture.width || 1;

function drawBoxes() {
  const k = displayScale();
  ui.boxes.replaceChildren();
  for (const c of state.components) {
    const [x0, y0, x1, y1] = c.box;
    if (x1 <= x0 || y1 <= y0) continue;
    const box = document.createElement("div");
    box.className = "box";
    box.dataset.testid = "component";
    box.dataset.index = c.index;
    box.dataset.name = c.name || "";
    box.dataset.type = c.type;
    box.title = `${c.name ? c.name + " · " : ""}${c.type} (line ${c.line})`;
    place(box, x0 * k, y0 * k, (x1 - x0) * k, (y1 - y0) * k);
    const tag = document.createElement("span");
    tag.className = "tag";
    tag.textContent = c.name ? `${c.type} · ${c.name}` : c.type;
    box.append(tag);
    if (state.selected.includes(c.index)) {
      box.classList.add("selected");
      if (c.sized && c.index === primary()) {
        const handle = document.createElement("div");
        handle.className = "handle";
        handle.dataset.testid = "resize";
        handle.title = "drag to resize";
        box.append(handle);
      }
    }
    ui.boxes.append(box);
  }
}

function place(el, left, top, width, height) {
  el.style.left = `${left}px`;
  el.style.top = `${top}px`;
  el.style.width = `${Math.max(2, width)}px`;
  el.style.height = `${Math.max(2, height)}px`;
}

// --- the source, parsed here only to read attributes (the server does every edit) --------------

// Only text the server has accepted is parsed here: Chromium reports a malformed document by
// building an element with an inline style, which the page's CSP blocks with a console error.
// Typed text that has not rendered yet keeps the last good parse until its render answers.
const accepted = new Set();

function parseSource() {
  const text = current();
  if (!accepted.has(text)) return;
  const doc = new DOMParser().parseFromString(text, "application/xml");
  if (doc.getElementsByTagName("parsererror").length || !doc.documentElement) {
    state.doc = null;
    state.elements = [];
    return;
  }
  state.doc = doc;
  state.elements = Array.from(doc.documentElement.getElementsByTagName("*"));  // pre-order, root excluded
}

function lineStart(text, line) {
  let at = 0;
  for (let n = 1; n < line && at !== -1; n++) at = text.indexOf("\n", at) + 1 || -1;
  return at === -1 ? text.length : at;
}

/** Put a new text in the textarea without moving the user's scroll position. */
function setSource(text) {
  if (text === current()) return;
  const { scrollTop, scrollLeft } = ui.source;
  ui.source.value = text;
  ui.source.scrollTop = scrollTop;
  ui.source.scrollLeft = scrollLeft;
}

function revealLine(line) {
  const text = current();
  const start = lineStart(text, line);
  let end = text.indexOf("\n", start);
  if (end === -1) end = text.length;
  ui.source.setSelectionRange(start, end);
  const lh = parseFloat(getComputedStyle(ui.source).lineHeight) || 18;
  const top = (line - 1) * lh;
  if (top < ui.source.scrollTop || top > ui.source.scrollTop + ui.source.clientHeight - 2 * lh) {
    ui.source.scrollTop = Math.max(0, top - ui.source.clientHeight / 3);
  }
}

// --- history and edits -------------------------------------------------------------------------

/** Record the textarea's text as a step of the history (if it is new) and redraw. */
function commit() {
  const text = current();
  if (state.history[state.at] !== text) {
    state.history.length = state.at + 1;
    state.history.push(text);
    state.at = state.history.length - 1;
  }
  parseSource();
  afterChange();
  requestRender();
}

function goto(at) {
  if (at < 0 || at >= state.history.length) return;
  clearTimeout(typing);
  state.at = at;
  setSource(state.history[at]);
  parseSource();
  state.selected = state.selected.filter((i) => i < state.elements.length);
  afterChange();
  requestRender();
}

async function edit(op) {
  clearTimeout(typing);
  if (state.history[state.at] !== current()) commit();
  try {
    const answer = await api("/api/edit", { source: current(), ...op });
    if (!answer.ok) { showError(answer.error); return false; }
    accepted.add(answer.source);  // the server made it from a layout it read
    setSource(answer.source);
    commit();
    return true;
  } catch (err) {
    showError({ line: null, message: `edit failed: ${err.message}` });
    return false;
  }
}

function afterChange() {
  ui.undo.disabled = state.at <= 0;
  ui.redo.disabled = state.at >= state.history.length - 1;
  const sel = state.selected.length > 0;
  ui.del.disabled = ui.duplicate.disabled = ui.groupTranslate.disabled = ui.groupFrame.disabled = !sel;
  ui.save.disabled = !state.canSave || !dirty();
  if (!state.diskNotice) setStatus(dirty() ? "unsaved changes" : "saved", dirty() ? "dirty" : "ok");
  drawBoxes();
  drawAttributes();
}

function setStatus(text, tone = "", offer = false) {
  ui.statusText.textContent = text;
  ui.status.className = `status ${tone}`;
  ui.reload.hidden = ui.keep.hidden = !offer;
}

// --- selection ---------------------------------------------------------------------------------

const primary = () => state.selected[state.selected.length - 1];

function select(index, { add = false, reveal = true } = {}) {
  if (index === null || index === undefined) state.selected = [];
  else if (add) {
    state.selected = state.selected.filter((i) => i !== index);
    state.selected.push(index);
  } else state.selected = [index];
  const comp = state.components.find((c) => c.index === index);
  if (comp && reveal) revealLine(comp.line);
  afterChange();
}

// --- dragging boxes: move, and resize by the handle ---------------------------------------------

let drag = null;

ui.boxes.addEventListener("pointerdown", (ev) => {
  const box = ev.target.closest(".box");
  if (!box || ev.button !== 0) return;
  ev.preventDefault();
  const index = Number(box.dataset.index);
  const resizing = ev.target.classList.contains("handle");
  if (!resizing) select(index, { add: ev.shiftKey || ev.ctrlKey || ev.metaKey });
  const el = ui.boxes.querySelector(`.box[data-index="${index}"]`);
  if (!el) return;
  el.setPointerCapture(ev.pointerId);
  drag = { index, el, resizing, x: ev.clientX, y: ev.clientY, dx: 0, dy: 0, pointer: ev.pointerId,
           left: el.offsetLeft, top: el.offsetTop, width: el.offsetWidth, height: el.offsetHeight };
  el.classList.add("dragging");
});

document.addEventListener("pointermove", (ev) => {
  if (!drag || ev.pointerId !== drag.pointer) return;
  drag.dx = ev.clientX - drag.x;
  drag.dy = ev.clientY - drag.y;
  if (drag.resizing) {
    const [w, h] = resized(drag.width, drag.height, drag.dx, drag.dy);
    place(drag.el, drag.left, drag.top, w, h);
  } else place(drag.el, drag.left + drag.dx, drag.top + drag.dy, drag.width, drag.height);
});

document.addEventListener("pointerup", (ev) => endDrag(ev, true));
document.addEventListener("pointercancel", (ev) => endDrag(ev, false));

async function endDrag(ev, apply) {
  if (!drag || ev.pointerId !== drag.pointer) return;
  const d = drag;
  drag = null;
  d.el.classList.remove("dragging");
  if (!apply || (d.dx === 0 && d.dy === 0)) { drawBoxes(); return; }
  const k = displayScale();
  const dx = d.dx / k, dy = d.dy / k;   // picture pixels
  const ok = d.resizing ? await resize(d.index, dx, dy) : await edit({ op: "move", index: d.index, dx, dy, size: state.sizeId });
  if (!ok) drawBoxes();
}

/** A box resized by (dx, dy); a square (`size`) follows the larger of the two. */
function resized(width, height, dx, dy) {
  const comp = state.components.find((c) => c.index === drag?.index);
  if (comp && sizedAttrs(comp.type).length === 1) {
    const d = Math.abs(dx) > Math.abs(dy) ? dx : dy;
    return [width + d, height + d];
  }
  return [width + dx, height + dy];
}

function sizedAttrs(type) {
  return state.info.vocabulary.components[type]?.sized || [];
}

/** Resize by (dx, dy) picture px: the sizing attributes grow by that ÷ scale, in layout px. */
async function resize(index, dx, dy) {
  const comp = state.components.find((c) => c.index === index);
  if (!comp) return false;
  const names = sizedAttrs(comp.type);
  const s = state.scale || 1;
  const attrs = {};
  if (names.length === 1) {
    const d = Math.abs(dx) > Math.abs(dy) ? dx : dy;
    attrs[names[0]] = String(Math.max(1, Math.round(numberAttr(index, names[0], comp, 0) + d / s)));
  } else if (names.length === 2) {
    attrs[names[0]] = String(Math.max(1, Math.round(numberAttr(index, names[0], comp, 0) + dx / s)));
    attrs[names[1]] = String(Math.max(1, Math.round(numberAttr(index, names[1], comp, 1) + dy / s)));
  } else return false;
  return edit({ op: "set", index, attrs });
}

/** An attribute's number as given, else its default, else the box's size in layout px. */
function numberAttr(index, name, comp, axis) {
  const given = parseFloat(state.elements[index]?.getAttribute(name));
  if (Number.isFinite(given)) return given;
  const spec = (state.info.vocabulary.components[comp.type]?.attrs || []).find((a) => a.name === name);
  const fallback = parseFloat(spec?.default);
  if (Number.isFinite(fallback)) return fallback;
  return (comp.box[axis + 2] - comp.box[axis]) / (state.scale || 1);
}

// --- the attribute panel, built from the vocabulary ----------------------------------------------

function drawAttributes() {
  const index = primary();
  const el = index === undefined ? null : state.elements[index];
  const focused = document.activeElement?.closest?.("#attributes [data-attr]")?.dataset.attr;  // keep it across the rebuild
  ui.attributes.replaceChildren();
  if (!el) {
    ui.attrsTitle.textContent = "Attributes";
    const p = document.createElement("div");
    p.className = "empty";
    p.textContent = state.doc ? "Click a component on the picture, or add one from the palette."
                              : "The source does not parse: fix it to edit attributes here.";
    ui.attributes.append(p);
    return;
  }
  const vocab = state.info.vocabulary;
  const type = el.tagName === "component" ? el.getAttribute("type") : el.tagName;
  const spec = el.tagName === "component" ? vocab.components[type] || vocab.components[type?.replaceAll("-", "_")]
                                          : vocab.containers[el.tagName];
  ui.attrsTitle.textContent = `Attributes · ${type}${el.getAttribute("name") ? " · " + el.getAttribute("name") : ""}`;
  if (spec?.doc) {
    const doc = document.createElement("div");
    doc.className = "doc";
    doc.textContent = spec.doc;
    ui.attributes.append(doc);
  }
  const attrs = [{ name: "name", kind: "text", default: "", doc: "A name for this element (for --include/--exclude)." },
                 ...(spec?.attrs || []).filter((a) => a.name !== "name")];
  for (const a of attrs) ui.attributes.append(attrRow(index, el, a));
  if (focused) ui.attributes.querySelector(`[data-attr="${CSS.escape(focused)}"] input, [data-attr="${CSS.escape(focused)}"] select`)?.focus();
}

function attrRow(index, el, spec) {
  const row = document.createElement("div");
  const given = el.getAttribute(spec.name) ?? el.getAttribute(spec.name.replaceAll("_", "-"));
  row.className = `row${given === null ? "" : " given"}${spec.required ? " required" : ""}`;
  row.dataset.attr = spec.name;
  row.title = `${spec.kind}${spec.default !== "" && spec.default != null ? ` · default ${spec.default}` : ""}\n${spec.doc || ""}`;
  const label = document.createElement("label");
  label.textContent = spec.name;
  const ctl = document.createElement("span");
  ctl.className = "ctl";
  const set = (value) => edit({ op: "set", index, attrs: { [spec.name]: value } });
  ctl.append(...control(spec, given, set));
  const reset = document.createElement("button");
  reset.type = "button";
  reset.className = "reset";
  reset.textContent = "×";
  reset.title = "remove: use the default";
  reset.addEventListener("click", () => set(null));
  row.append(label, ctl, reset);
  return row;
}

function control(spec, given, set) {
  const kind = spec.kind || "text";
  const value = given ?? "";
  const shown = given ?? (spec.default ?? "");
  const onChange = (input, read) => input.addEventListener("change", () => set(read()));
  if (kind === "true or false") {
    const box = input("checkbox");
    box.checked = String(shown).trim().toLowerCase() === "true";
    onChange(box, () => (box.checked ? "true" : "false"));
    return [box];
  }
  if (kind.startsWith("colour")) return colourControl(kind, shown, given !== null, set);
  if (kind === "metric name") {
    const select = document.createElement("select");
    select.dataset.metric = "1";
    const names = state.info.vocabulary.metrics.map((m) => m.name);
    if (value && !names.includes(value)) names.unshift(value);
    if (!value) select.append(option("", spec.default ? `(default ${spec.default})` : "—"));
    for (const name of names) select.append(option(name, metricLabel(name)));
    select.value = value;
    onChange(select, () => select.value || null);
    return [select];
  }
  if (kind.startsWith("one of ") || spec.name === "align" || kind.startsWith("left, right")) {
    const choices = kind.startsWith("one of ") ? kind.slice(7).split("|") : ALIGNS;
    const select = document.createElement("select");
    select.append(option("", `(default ${spec.default || "—"})`));
    if (value && !choices.includes(value)) select.append(option(value, value));
    for (const c of choices) select.append(option(c, c));
    select.value = value;
    onChange(select, () => select.value || null);
    return [select];
  }
  if (kind.startsWith("number") || kind.startsWith("integer")) {
    const num = input("number");
    num.step = kind.startsWith("integer") ? "1" : "any";
    const range = kind.match(/(-?[\d.]+)–(-?[\d.]+)/);
    if (range) { num.min = range[1]; num.max = range[2]; }
    num.value = value;
    num.placeholder = spec.default ?? "";
    onChange(num, () => (num.value === "" ? null : num.value));
    return [num];
  }
  const text = input("text");
  text.value = value;
  text.placeholder = spec.default ?? "";
  if (spec.name === "units") {
    text.setAttribute("list", "units-list");
    ensureUnitsList();
  }
  onChange(text, () => (text.value === "" ? null : text.value));
  return [text];
}

function colourControl(kind, shown, given, set) {
  const parts = String(shown).split(",").map((p) => parseInt(p, 10));
  const isNone = String(shown).trim() === "none";
  const rgb = parts.length >= 3 && parts.slice(0, 3).every(Number.isFinite) ? parts.slice(0, 3) : [255, 255, 255];
  const colour = input("color");
  colour.value = "#" + rgb.map((c) => Math.max(0, Math.min(255, c)).toString(16).padStart(2, "0")).join("");
  const alpha = input("number");
  alpha.className = "alpha";
  alpha.min = "0"; alpha.max = "255"; alpha.step = "1";
  alpha.title = "alpha: 0 transparent … 255 solid";
  alpha.value = Number.isFinite(parts[3]) ? parts[3] : 255;
  const out = [colour, alpha];
  let none = null;
  if (kind.includes("none")) {
    none = input("checkbox");
    none.checked = isNone;
    const label = document.createElement("label");
    label.className = "none";
    label.append(none, "none");
    out.push(label);
    none.addEventListener("change", () => set(none.checked ? "none" : write()));
  }
  colour.disabled = alpha.disabled = isNone;
  const write = () => {
    const hex = colour.value.slice(1);
    const c = [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16));
    const a = Math.max(0, Math.min(255, Math.round(Number(alpha.value) || 0)));
    return (a === 255 ? c : [...c, a]).join(",");
  };
  colour.addEventListener("change", () => set(write()));
  alpha.addEventListener("change", () => set(write()));
  void given;
  return out;
}

function input(type) {
  const el = document.createElement("input");
  el.type = type;
  return el;
}

function option(value, text) {
  const o = document.createElement("option");
  o.value = value;
  o.textContent = text;
  return o;
}

function metricLabel(name) {
  const v = state.values[name];
  return v === undefined || v === null || v === "" ? name : `${name} — ${v}`;
}

/** Keep the metric menus' "current value" text in step with the frame shown. */
function refreshMetricOptions() {
  for (const select of ui.attributes.querySelectorAll("select[data-metric]")) {
    for (const o of select.options) if (o.value) o.textContent = metricLabel(o.value);
  }
}

function ensureUnitsList() {
  if ($("units-list")) return;
  const list = document.createElement("datalist");
  list.id = "units-list";
  for (const u of state.info.vocabulary.units) list.append(option(u, u));
  document.body.append(list);
}

// --- the source textarea -------------------------------------------------------------------------

let typing = 0;
ui.source.addEventListener("input", () => {
  clearTimeout(typing);
  ui.save.disabled = !state.canSave || !dirty();
  typing = setTimeout(commit, TEXT_IDLE_MS);
});

// The caret in the source selects the component written on that line.
ui.source.addEventListener("click", () => {
  const line = current().slice(0, ui.source.selectionStart).split("\n").length;
  const comp = [...state.components].reverse().find((c) => c.line <= line);
  if (comp && comp.index !== primary()) select(comp.index, { reveal: false });
});

// --- toolbar -------------------------------------------------------------------------------------

ui.size.addEventListener("change", () => {
  state.sizeId = ui.size.value;
  const s = sizeOf(state.sizeId);
  state.picture = { width: s.width, height: s.height };
  fitPreview();
  requestRender();
});

ui.add.addEventListener("click", async () => {
  const type = ui.palette.value;
  const after = primary() ?? null;
  if (!(await edit({ op: "add", type, after }))) return;
  const guess = after === null ? state.elements.length - 1 : after + 1 + (state.elements[after]?.getElementsByTagName("*").length || 0);
  const el = state.elements[guess];
  select(el && el.tagName === "component" ? guess : null, { reveal: false });
});

ui.duplicate.addEventListener("click", async () => {
  const index = primary();
  const inside = state.elements[index]?.getElementsByTagName("*").length || 0;
  if (await edit({ op: "duplicate", index })) select(index + inside + 1, { reveal: false });
});

ui.del.addEventListener("click", deleteSelected);

async function deleteSelected() {
  const order = [...state.selected].sort((a, b) => b - a);   // last first: earlier indices stay valid
  for (const index of order) if (!(await edit({ op: "delete", index }))) break;
  select(null);
}

for (const [button, kind] of [[ui.groupTranslate, "translate"], [ui.groupFrame, "frame"]]) {
  button.addEventListener("click", async () => {
    const indices = [...state.selected].sort((a, b) => a - b);
    if (await edit({ op: "group", indices, kind })) select(indices[0], { reveal: false });
  });
}

ui.undo.addEventListener("click", () => goto(state.at - 1));
ui.redo.addEventListener("click", () => goto(state.at + 1));
ui.save.addEventListener("click", () => save(false));
ui.keep.addEventListener("click", () => save(true));
ui.reload.addEventListener("click", reloadFromDisk);

document.addEventListener("keydown", (ev) => {
  const mod = ev.ctrlKey || ev.metaKey;
  const key = ev.key.toLowerCase();
  if (mod && key === "z") { ev.preventDefault(); goto(state.at + (ev.shiftKey ? 1 : -1)); return; }
  if (mod && key === "y") { ev.preventDefault(); goto(state.at + 1); return; }
  if (mod && key === "s") { ev.preventDefault(); if (!ui.save.disabled) save(false); return; }
  const inField = ev.target.closest("input, textarea, select");
  if (inField || !state.selected.length) return;
  if (ev.key === "Delete" || ev.key === "Backspace") { ev.preventDefault(); deleteSelected(); return; }
  const step = (ev.shiftKey ? 10 : 1) * (state.scale || 1);
  const arrows = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
  if (arrows[ev.key]) {
    ev.preventDefault();
    edit({ op: "move", index: primary(), dx: arrows[ev.key][0], dy: arrows[ev.key][1], size: state.sizeId });
  }
  if (ev.key === "Escape") select(null);
});

// --- saving and the file on disk -----------------------------------------------------------------

async function save(force) {
  clearTimeout(typing);
  if (state.history[state.at] !== current()) commit();
  const text = current();
  try {
    const answer = await api("/api/save", { source: text, base_mtime: state.mtime, force });
    if (answer.ok) {
      state.saved = text;
      state.mtime = answer.mtime;
      state.diskNotice = null;
      afterChange();
      if (answer.warning) setStatus(`saved (${errorText(answer.warning)})`, "dirty");
    } else if (answer.conflict) {
      state.diskNotice = { mtime: null, source: null };
      setStatus("file changed on disk —", "alert", true);
    } else setStatus(`not saved: ${errorText(answer.error)}`, "alert");
  } catch (err) {
    setStatus(`not saved: ${err.message}`, "alert");
  }
}

async function reloadFromDisk() {
  const disk = await api("/api/file");
  if (disk.source === null || disk.source === undefined) { setStatus("the file is gone from disk", "alert"); return; }
  state.saved = disk.source;
  state.mtime = disk.mtime;
  state.diskNotice = null;
  setSource(disk.source);
  commit();   // a step of the history: undo gets the user's text back
}

async function poll() {
  if (!state.info?.layout_path) return;
  try {
    const disk = await api("/api/file");
    if (disk.mtime === state.mtime || state.diskNotice) return;
    if (disk.source === state.saved || disk.source === null) { state.mtime = disk.mtime; return; }
    if (disk.source === current()) { state.saved = disk.source; state.mtime = disk.mtime; afterChange(); return; }
    state.diskNotice = disk;
    setStatus("file changed on disk —", "alert", true);
  } catch {
    // the server is gone (Ctrl-C): nothing to poll; the page keeps the user's text
  }
}

window.addEventListener("beforeunload", (ev) => {
  if (!dirty()) return;
  ev.preventDefault();
  ev.returnValue = "";
});

// --- time ----------------------------------------------------------------------------------------

function showTime() {
  const fps = state.info.video.fps || 30;
  const t = state.frame / fps;
  const h = Math.floor(t / 3600), m = Math.floor((t % 3600) / 60), s = t % 60;
  ui.timeLabel.textContent = `${h}:${String(m).padStart(2, "0")}:${s.toFixed(1).padStart(4, "0")}`;
}

ui.time.addEventListener("input", () => {
  state.frame = Number(ui.time.value);
  showTime();
  requestRender();
});

let playing = 0;
ui.play.addEventListener("click", () => (playing ? stop() : play()));

/** Play in real time, a picture every PLAY_MS: frames in between (and while a render runs) are skipped. */
function play() {
  const frames = state.info.video.frames;
  if (state.frame >= frames - 1) state.frame = 0;
  let last = performance.now();
  ui.play.textContent = "❚❚";
  playing = setInterval(() => {
    if (render.busy) return;
    const now = performance.now();
    const step = Math.max(1, Math.round(((now - last) / 1000) * state.info.video.fps));
    last = now;
    state.frame = Math.min(frames - 1, state.frame + step);
    ui.time.value = state.frame;
    showTime();
    requestRender();
    if (state.frame >= frames - 1) stop();
  }, PLAY_MS);
}

function stop() {
  clearInterval(playing);
  playing = 0;
  ui.play.textContent = "▶";
}

// --- start ---------------------------------------------------------------------------------------

async function start() {
  let info;
  try {
    info = await api("/api/state");
  } catch (err) {
    setStatus(`cannot reach overdash: ${err.message}`, "alert");
    return;
  }
  state.info = info;
  state.canSave = info.can_save;
  state.mtime = info.file_mtime;
  state.saved = info.source;
  ui.path.textContent = info.layout_path || "(not saved to a file)";
  ui.save.title = info.can_save ? "Save the layout (Ctrl+S)" : "give --layout FILE to save";
  for (const s of info.sizes) ui.size.append(option(s.id, s.label));
  state.sizeId = info.sizes[0]?.id || "video";
  ui.size.value = state.sizeId;
  state.picture = { width: sizeOf(state.sizeId).width, height: sizeOf(state.sizeId).height };
  for (const type of Object.keys(info.vocabulary.components).sort()) ui.palette.append(option(type, type));
  ui.palette.value = info.vocabulary.components.metric ? "metric" : ui.palette.options[0]?.value;
  ui.time.max = Math.max(0, info.video.frames - 1);
  state.frame = Math.min(Math.floor(info.video.frames / 2), Math.max(0, info.video.frames - 1));
  ui.time.value = state.frame;
  showTime();
  ui.source.value = info.source;
  fitPreview();
  commit();
  new ResizeObserver(() => { fitPreview(); drawBoxes(); }).observe(ui.pane);
  setInterval(poll, POLL_MS);
}

start();
