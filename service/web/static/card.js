// The model card: the folder's distillation report (GET v1/models/{name}/card) as a table of
// teacher, student and ONNX variants, its plots and report.md (GET v1/models/{name}/files/{file}).
// Files are fetched with the API key and shown from blob: URLs.

import { call, el } from "./api.js";
import { fixed, megabytes, milliseconds, millions, percent } from "./format.js";

// Two header rows, so that each heading is short: a metric over its value and its retention
// ("kept"), a batch size over its median latency in ms and its speed-up; model, parameters and
// size span both rows. Short headings carry their meaning in full as a title.
function header(card) {
  const tall = (text) => el("th", { scope: "col", rowspan: 2 }, text);
  const group = (text) => el("th", { scope: "colgroup", colspan: 2 }, text);
  const sub = (text, title) => el("th", { scope: "col", class: "num", title }, text);
  const relative = card.baseline ? ` relative to ${card.baseline}` : "";
  const top = [tall("model"), Object.values(card.metrics).map(group), tall("parameters"), tall("size"),
    card.batch_sizes.map((size) => group(`batch ${size}`))];
  const below = [
    Object.values(card.metrics).map(() => [sub("value"), sub("kept", `retention${relative}`)]),
    card.batch_sizes.map(() => [sub("ms", "median latency in milliseconds"), sub("speed-up", `speed-up${relative}`)]),
  ];
  return el("thead", {}, el("tr", {}, top), el("tr", {}, below));
}

// The column groups the header's "colgroup" cells head.
function columns(card) {
  const span = (n) => el("colgroup", { span: n });
  return [span(1), Object.values(card.metrics).map(() => span(2)), span(1), span(1), card.batch_sizes.map(() => span(2))];
}

function number(text) {
  return el("td", { class: "num" }, text);
}

function row(card, r) {
  const cells = [el("th", { scope: "row" }, r.name)];
  for (const key of Object.keys(card.metrics)) cells.push(number(percent(r.metrics[key])), number(percent(r.retention[key])));
  cells.push(number(millions(r.parameters)), number(megabytes(r.size_bytes)));
  for (const size of card.batch_sizes) {
    cells.push(number(milliseconds(r.latency_ms[size])), number(fixed(r.speedup[size], 2, "×")));
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

// How to call the model from text-embeddings-inference's clients and huggingface_hub's
// InferenceClient (GET v1/models/{name}/clients), with this server's address filled in.
async function clients(name) {
  const result = await call(`v1/models/${encodeURIComponent(name)}/clients`);
  if (!result.ok) return [];
  const base = new URL(".", window.location.href).href.replace(/\/$/, "");
  return [el("details", { class: "clients" }, el("summary", {}, "Call it from TEI clients or InferenceClient"),
    result.data.snippets.map((s) => [el("h4", {}, s.client),
      el("pre", { class: "snippet", "data-language": s.language }, s.code.replaceAll("{base}", base))]))];
}

// Replace the container's content with the card of the model named `name`; resolves to the card
// (null when there is none).
export async function renderCard(container, name) {
  container.replaceChildren(el("p", {}, "loading…"));
  const [result, snippets] = await Promise.all([call(`v1/models/${encodeURIComponent(name)}/card`), clients(name)]);
  if (!result.ok) {
    // 404: the folder holds no report, which is no fault; other statuses are.
    const attributes = result.status === 404 ? { class: "note" } : { class: "error", role: "alert" };
    container.replaceChildren(el("p", attributes, result.message), ...snippets);
    return null;
  }
  const card = result.data;
  const table = el("table", { id: "card-table", class: "card" },
    el("caption", {}, `${card.model}: ${card.task}`), columns(card), header(card),
    el("tbody", {}, card.rows.map((r) => row(card, r))));
  const parts = [summary(card), el("div", { class: "scroll" }, table)];
  for (const note of card.notes) parts.push(el("p", { class: "note" }, note));
  parts.push(...await Promise.all(card.plots.map((file) => plot(card, file))));
  if (card.markdown) parts.push(await markdown(card));
  parts.push(...snippets);
  container.replaceChildren(...parts);
  return card;
}
