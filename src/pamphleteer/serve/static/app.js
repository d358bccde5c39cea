// The kit's proofs, refreshed by polling /api/outputs: a new revision redraws only the
// outputs that changed, and an image is replaced only when its URL (its digest) changed.
// A poll names the revision the page has, and the server answers when there is a newer
// one, so a new proof shows the moment it is made.
"use strict";

const RETRY_MS = 1000;        // after a failed poll: the server may be restarting
const $ = (id) => document.getElementById(id);
const kit = $("kit"), statusLine = $("status"), banner = $("error");
let revision = null;
let outputs = new Map();      // file -> output, as the API last gave it
const cards = new Map();      // file -> {json, el}
let viewing = null;           // {file, index} of the page open in the viewer

function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

function failed(output) { return output.findings.some((f) => f.severity === "error"); }

function mm(n) { return Number(n.toFixed(1)).toString(); }

function card(output, old) {
  const previous = new Map();
  if (old) old.el.querySelectorAll("img").forEach((img) => previous.set(img.dataset.page, img));
  const pages = el("div", { className: "pages" });
  output.pages.forEach((page, index) => {
    let img = previous.get(String(index));
    const fresh = !img || img.getAttribute("src") !== page.png;
    if (!img) img = el("img", { loading: "lazy", decoding: "async" });
    img.width = page.width_px;  // the page's shape is known before the image loads
    img.height = page.height_px;
    img.dataset.page = String(index);
    img.alt = `${output.file}, page ${page.label || index + 1}`;
    if (img.getAttribute("src") !== page.png) img.src = page.png;
    const button = el("button", { className: "thumb", type: "button", title: img.alt },
                      img, el("span", { className: "n", textContent: page.label || index + 1 }));
    if (fresh && old) button.classList.add("fresh");
    button.addEventListener("click", () => openViewer(output.file, index));
    pages.append(button);
  });
  if (!output.pages.length) pages.append(el("span", { className: "pending", textContent: "not built yet" }));
  const findings = el("ul", { className: "findings" }, ...output.findings.map((f) =>
    el("li", { className: f.severity, textContent: (f.page ? `page ${f.page}: ` : "") + f.message })));
  const node = el("article", { className: "output" + (failed(output) ? " failed" : "") },
    el("header", {}, el("span", { className: "tag", textContent: output.variant }),
                     el("span", { className: "file", textContent: output.file })),
    pages, findings);
  node.dataset.file = output.file;
  return node;
}

function render(data) {
  banner.hidden = !data.error;
  banner.textContent = data.error || "";
  outputs = new Map(data.outputs.map((o) => [o.file, o]));
  const sections = new Map();   // layout -> {section, sizes: Map(size -> row)}
  for (const output of data.outputs) {
    let layout = sections.get(output.layout);
    if (!layout) {
      layout = { section: el("section", { className: "layout" },
                             el("h2", { textContent: output.layout })), sizes: new Map() };
      sections.set(output.layout, layout);
    }
    let row = layout.sizes.get(output.size);
    if (!row) {
      const [w, h] = output.trim_mm;
      row = el("div", { className: "cards" });
      layout.sizes.set(output.size, row);
      layout.section.append(el("div", { className: "size" },
        el("h3", {}, output.size, el("small", { textContent: `${mm(w)} × ${mm(h)} mm` })), row));
    }
    const json = JSON.stringify(output);
    let entry = cards.get(output.file);
    if (!entry || entry.json !== json) {
      entry = { json, el: card(output, entry) };
      cards.set(output.file, entry);
    }
    row.append(entry.el);
  }
  kit.replaceChildren(...[...sections.values()].map((s) => s.section));
  if (viewing) showPage();
}

function showStatus(data) {
  const errors = data.outputs.filter(failed).length;
  const warnings = data.outputs.reduce(
    (n, o) => n + o.findings.filter((f) => f.severity !== "error").length, 0);
  const pages = data.outputs.reduce((n, o) => n + o.pages.length, 0);
  statusLine.classList.toggle("busy", data.building);
  statusLine.textContent = (data.building ? "building… " : data.error ? "failed · " : "up to date · ")
    + `${data.outputs.length} outputs, ${pages} pages`
    + (errors ? ` · ${errors} failed` : "") + (warnings ? ` · ${warnings} warnings` : "")
    + ` · revision ${data.revision}`;
}

// The output open in the viewer is the one the next rebuild makes first.
function outputsUrl(since) {
  const query = new URLSearchParams();
  if (viewing) query.set("focus", viewing.file);
  if (since !== null) query.set("since", since);
  return `/api/outputs?${query}`;
}

async function poll() {
  let wait = 0;
  try {
    const response = await fetch(outputsUrl(revision), { cache: "no-store" });
    const data = await response.json();
    showStatus(data);
    if (data.revision !== revision) {
      revision = data.revision;
      render(data);
    }
  } catch (e) {
    statusLine.classList.remove("busy");
    statusLine.textContent = "not connected — is pamphleteer serve still running?";
    wait = RETRY_MS;
  }
  setTimeout(poll, wait);
}

// The waiting poll told the server what was open when it was sent: tell it now.
function lookAt() { fetch(outputsUrl(null), { cache: "no-store" }).catch(() => {}); }

// --- the viewer: one page large, with trim, bleed and safe-zone overlays --------------

function place(box, rect, media) {
  const [x, y, w, h] = rect;
  Object.assign(box.style, { left: `${x / media[0] * 100}%`, top: `${y / media[1] * 100}%`,
                             width: `${w / media[0] * 100}%`, height: `${h / media[1] * 100}%` });
}

function showPage() {
  const output = outputs.get(viewing.file);
  if (!output || !output.pages.length) return closeViewer();
  viewing.index = Math.max(0, Math.min(viewing.index, output.pages.length - 1));
  const page = output.pages[viewing.index];
  // A riso file's pages are named by their ink (1-black), its composites after them
  const name = page.label || viewing.index + 1;
  const of = `${viewing.index + 1} of ${output.pages.length}`;
  $("viewer-title").textContent = `${output.file} — page ${page.label ? `${name} (${of})` : of}`;
  const img = $("viewer-img");
  if (img.getAttribute("src") !== page.png) img.src = page.png;
  img.alt = `${output.file}, page ${name}`;
  place($("box-trim"), page.trim_mm, page.media_mm);
  place($("box-bleed"), page.bleed_mm, page.media_mm);
  const safe = output.safe_mm;
  const [x, y, w, h] = page.trim_mm;
  if (safe != null) place($("box-safe"), [x + safe, y + safe, w - 2 * safe, h - 2 * safe], page.media_mm);
  $("box-trim").hidden = !$("show-trim").checked;
  $("box-bleed").hidden = !$("show-bleed").checked;
  $("box-safe").hidden = safe == null || !$("show-safe").checked;
  $("viewer-findings").replaceChildren(...output.findings
    .filter((f) => !f.page || f.page === viewing.index + 1)
    .map((f) => el("li", { className: f.severity, textContent: f.message })));
}

function openViewer(file, index) {
  viewing = { file, index };
  $("viewer").hidden = false;
  showPage();
  lookAt();
}

function closeViewer() {
  viewing = null;
  $("viewer").hidden = true;
  lookAt();
}

$("viewer-close").addEventListener("click", closeViewer);
$("viewer").addEventListener("click", (e) => { if (e.target.classList.contains("viewer-stage")) closeViewer(); });
for (const id of ["show-trim", "show-bleed", "show-safe"]) {
  $(id).addEventListener("change", () => viewing && showPage());
}
document.addEventListener("keydown", (e) => {
  if (!viewing) return;
  if (e.key === "Escape") closeViewer();
  else if (e.key === "ArrowRight") { viewing.index += 1; showPage(); }
  else if (e.key === "ArrowLeft") { viewing.index -= 1; showPage(); }
});

poll();
