// Two models on one input: which loaded models can answer the chosen model's form, which of them is
// its teacher, and the answers drawn side by side, each with the round trip the browser measured and
// the server's own timing headers.

import { call, el } from "./api.js";
import { fixed } from "./format.js";

// The other models that take the same form (and, for classification, the same kind of input:
// single texts or text pairs), so one submit can go to both.
export function comparable(model, models) {
  return models.filter((m) => m.name !== model.name && m.form === model.form &&
    (model.form !== "classify" || (m.pairs === true) === (model.pairs === true)));
}

// The last part of a name, path or hub id, lower case: "runs/sst2/Teacher/" -> "teacher".
function lastPart(name) {
  const parts = String(name).split(/[\\/]/).filter(Boolean);
  return (parts.length ? parts[parts.length - 1] : "").toLowerCase();
}

// The candidate that is the teacher of `model`: the one its card (`teacher`) or its /v1/models entry
// names, in full or by the last part of a path or hub id; else one named after the model
// ("<name>-teacher", "<name>_teacher"); else null.
export function teacherAmong(model, card, candidates) {
  const named = [card && card.teacher, model.teacher].filter((t) => typeof t === "string" && t);
  const byName = candidates.find((c) => named.some((t) => t === c.name || lastPart(t) === c.name.toLowerCase()));
  if (byName) return byName;
  const suffixed = [`${model.name}-teacher`, `${model.name}_teacher`].map((n) => n.toLowerCase());
  return candidates.find((c) => suffixed.includes(c.name.toLowerCase())) || null;
}

// call() with the browser's round trip in milliseconds (request sent to response read).
export async function timedCall(path, options) {
  const started = performance.now();
  const result = await call(path, options);
  return { ...result, roundTripMs: performance.now() - started };
}

// "round trip 12.3 ms · queue 0.1 ms · inference 2.0 ms · batch size 1" (the server's part only
// when its headers came back).
export function latencyText(result) {
  const parts = [`round trip ${fixed(result.roundTripMs, 1, " ms")}`];
  const timing = result.timing;
  if (timing && timing.queueMs !== null) {
    parts.push(`queue ${timing.queueMs} ms`, `inference ${timing.inferenceMs} ms`, `batch size ${timing.batchSize}`);
  }
  return parts.join(" · ");
}

export function latencyLine(result) {
  return el("p", { class: "timing" }, latencyText(result));
}

// One column per model: its name, its answer (drawn by `draw(target, data, index)`) or its error as
// the service sent it, and its latency.
export function sideBySide(models, results, draw) {
  return el("div", { class: "compare" }, models.map((m, i) => {
    const column = el("article", { class: "answer", "aria-label": `answer of ${m.name}` },
      el("h3", {}, m.name));
    const result = results[i];
    if (result.ok) draw(column, result.data, i);
    else column.append(el("p", { class: "error" }, result.message));
    column.append(latencyLine(result));
    return column;
  }));
}
