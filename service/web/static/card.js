// The model card: the folder's distillation report (GET v1/models/{name}/card) as a table of
// teacher, student and ONNX variants, its plots and report.md (GET v1/models/{name}/files/{file}).
// Files are fetched with the API key and shown from blob: URLs.

import { call, el } from "./api.js";
import { count, fixed, megabytes, percent } from "./format.js";

function header(card) {
  const cells = ["model"];
  for (const name of Object.values(card.metrics)) cells.push(name, `${name} retention`);
  cells.push("parameters", "size");
  for (const size of card.batch_sizes) cells.push(`latency b=${size}`, `speed-up b=${size}`);
  return el("thead", {}, el("tr", {}, cells.map((c) => el("th", { scope: "col" }, c))));
}

function row(card, r) {
  const cells = [el("th", { scope: "row" }, r.name)];
  for (const key of Object.keys(card.metrics)) {
    cells.push(el("td", {}, percent(r.metrics[key])), el("td", {}, percent(r.retention[key])));
  }
  cells.push(el("td", {}, count(r.parameters)), el("td", {}, megabytes(r.size_bytes)));
  for (const size of card.batch_sizes) {
    cells.push(el("td", {}, fixed(r.latency_ms[size], 2, " ms")), el("td", {}, fixed(r.speedup[size], 2, "×")));
  }
  return el("tr", {}, cells);
}

function summary(card) {
  const items = [["teacher", card.teacher], ["student layers", card.student_layers],
    ["layer map (student ← teacher)", card.layer_map ? card.layer_map.join(", ") : null],
    ["retention and speed-up relative to", card.baseline]];
  return el("dl", { class: "facts" }, items.filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => [el("dt", {}, k), el("dd", {}, String(v))]));
}

function fileUrl(card, file) {
  return `v1/models/${encodeURIComponent(card.model)}/files/${encodeURIComponent(file)}`;
}

async function plot(card, file) {
  const result = await call(fileUrl(card, file), { as: "blob" });
  if (!result.ok) return el("p", { class: "error" }, `${file}: ${result.message}`);
  const image = el("img", { src: URL.createObjectURL(result.data), alt: `${file} of ${card.model}` });
  return el("figure", {}, image, el("figcaption", {}, file));
}

async function markdown(card) {
  const result = await call(fileUrl(card, card.markdown), { as: "text" });
  const text = result.ok ? result.data : result.message;
  return el("details", {}, el("summary", {}, card.markdown), el("pre", { class: "report" }, text));
}

// Replace the container's content with the card of the model named `name`.
export async function renderCard(container, name) {
  container.replaceChildren(el("p", {}, "loading…"));
  const result = await call(`v1/models/${encodeURIComponent(name)}/card`);
  if (!result.ok) {
    // 404: the folder holds no report, which is no fault; other statuses are.
    const attributes = result.status === 404 ? { class: "note" } : { class: "error", role: "alert" };
    container.replaceChildren(el("p", attributes, result.message));
    return;
  }
  const card = result.data;
  const table = el("table", { id: "card-table" },
    el("caption", {}, `${card.model}: ${card.task}`), header(card),
    el("tbody", {}, card.rows.map((r) => row(card, r))));
  const parts = [summary(card), el("div", { class: "scroll" }, table)];
  for (const note of card.notes) parts.push(el("p", { class: "note" }, note));
  parts.push(...await Promise.all(card.plots.map((file) => plot(card, file))));
  if (card.markdown) parts.push(await markdown(card));
  container.replaceChildren(...parts);
}
