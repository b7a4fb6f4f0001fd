// The playground of one model: the form its task names (/v1/models: "form", "endpoint"), which
// calls the task's /v1 route, and the answer drawn from the response (score bars; the answer
// highlighted in its context; entities marked in the text; the cosine similarity of two sentences).
// With a model to compare with, one submit sends the same input to both and draws both answers.

import { el, showMessage } from "./api.js";
import { latencyLine, sideBySide, timedCall } from "./compare.js";
import { fixed } from "./format.js";

// The route the form posts to, relative to the page ("/v1/classify" -> "v1/classify").
function pathOf(model) {
  return model.endpoint.replace(/^\//, "");
}

// A model takes sentence pairs when its /v1/models entry says so ("pairs": true).
export function takesPairs(model) {
  return model.pairs === true;
}

// The /v1/classify body for one text, or one {text, text_pair} item for a pair model.
export function classifyBody(model, { text, textPair, topK, functionToApply }) {
  return {
    model: model.name,
    inputs: takesPairs(model) ? [{ text, text_pair: textPair }] : text,
    top_k: topK,
    function_to_apply: functionToApply,
  };
}

// The label scores of the one input sent: a list of {label, score} (or a list of such lists);
// a regression model's {score} as one bar.
export function scoresOf(data) {
  if (!Array.isArray(data)) return [{ label: "score", score: data.score }];
  return Array.isArray(data[0]) ? data[0] : data;
}

export function qaBody(model, { question, context, topK }) {
  return { model: model.name, question, context, top_k: topK };
}

// The answers of the one question sent, best first.
export function answersOf(data) {
  return Array.isArray(data) ? data : [data];
}

// The context as text nodes with the span [start, end) in a <mark>.
export function highlighted(context, start, end) {
  const block = el("p", { class: "context" });
  if (end <= start) {
    block.append(context);
    return block;
  }
  block.append(context.slice(0, start), el("mark", {}, context.slice(start, end)), context.slice(end));
  return block;
}

function field(id, label, control) {
  return el("p", { class: "field" }, el("label", { for: id }, label), control);
}

// One bar per label; logits (function "none") are scaled to the largest magnitude.
export function scoreBars(scores) {
  const largest = Math.max(...scores.map((s) => Math.abs(s.score)), 1e-12);
  const scale = scores.every((s) => s.score >= 0 && s.score <= 1) ? 1 : largest;
  return el("ul", { class: "scores" }, scores.map((s) => {
    const bar = el("span", { class: "fill" });
    bar.style.width = `${Math.min(100, (Math.abs(s.score) / scale) * 100)}%`;
    return el("li", {},
      el("span", { class: "label" }, s.label),
      el("span", { class: "bar", "aria-hidden": "true" }, bar),
      el("span", { class: "score" }, fixed(s.score, 4)));
  }));
}

function renderQA(target, context, answers) {
  const best = answers[0];
  const list = el("ol", { class: "answers" }, answers.map((a) => el("li", {},
    a.answer ? el("q", {}, a.answer) : el("em", {}, "no answer"),
    ` score ${fixed(a.score, 4)} (characters ${a.start}–${a.end})`)));
  target.append(
    el("p", { class: "best" }, "Answer: ", best.answer ? el("strong", {}, best.answer) : el("em", {}, "no answer"),
      ` · score ${fixed(best.score, 4)}`),
    highlighted(context, best.start, best.end),
    el("h4", {}, `Top ${answers.length}`), list);
}

// The request of `model` for another model of the same form: the same body, its own name.
export function requestFor(model, body) {
  return { path: pathOf(model), body: { ...body, model: model.name } };
}

// Submit handler shared by the forms: call the model (and the one to compare with, at the same
// time), then draw each answer or show each error as sent. `draw(target, data, body, suffix)`:
// suffix "" for the chosen model's answer, "-compare" for the other's (ids stay unique).
function runner(play, form, body, draw) {
  const { model, output, error, compareWith } = play;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    form.setAttribute("aria-busy", "true");
    const sent = body();
    const models = [model, compareWith()].filter(Boolean);
    const results = await Promise.all(models.map((m) => {
      const { path, body: own } = requestFor(m, sent);
      return timedCall(path, { method: "POST", body: own });
    }));
    button.disabled = false;
    form.removeAttribute("aria-busy");
    output.replaceChildren();
    const [result] = results;
    if (models.length > 1) {
      showMessage(error, null);
      output.append(sideBySide(models, results, (target, data, i) => draw(target, data, sent, i ? "-compare" : "")));
      return;
    }
    showMessage(error, result.ok ? null : result.message);
    if (result.ok) draw(output, result.data, sent, "");
    output.append(latencyLine(result));
  });
}

function topKChoices(id, labels) {
  const select = el("select", { id, name: "top_k" }, el("option", { value: "" }, "all"));
  labels.forEach((_, i) => select.append(el("option", { value: String(i + 1) }, String(i + 1))));
  return select;
}

function classificationForm(play) {
  const { model } = play;
  const pairs = takesPairs(model);
  const text = el("textarea", { id: "play-text", name: "text", rows: 3, required: true });
  const second = el("textarea", { id: "play-text-pair", name: "text_pair", rows: 3, required: true });
  const fn = el("select", { id: "play-function", name: "function_to_apply" },
    ["softmax", "sigmoid", "none"].map((f) => el("option", { value: f }, f)));
  const topK = topKChoices("play-top-k", model.labels);
  const form = el("form", { id: "classify-form", class: "play" },
    field("play-text", pairs ? "First text" : "Text", text),
    pairs ? field("play-text-pair", "Second text", second) : null,
    el("div", { class: "row" }, field("play-top-k", "top_k", topK), field("play-function", "function_to_apply", fn)),
    el("button", { type: "submit" }, "Classify"));
  runner(play, form, () => classifyBody(model, {
    text: text.value, textPair: second.value,
    topK: topK.value ? Number(topK.value) : null, functionToApply: fn.value,
  }), (target, data) => target.append(scoreBars(scoresOf(data))));
  return form;
}

function qaForm(play) {
  const { model } = play;
  const question = el("input", { id: "play-question", name: "question", type: "text", required: true });
  const context = el("textarea", { id: "play-context", name: "context", rows: 6, required: true });
  const topK = el("input", { id: "play-qa-top-k", name: "top_k", type: "number", min: 1, max: 20, value: 3 });
  const form = el("form", { id: "qa-form", class: "play" },
    field("play-question", "Question", question),
    field("play-context", "Context", context),
    field("play-qa-top-k", "top_k", topK),
    el("button", { type: "submit" }, "Answer"));
  runner(play, form, () => qaBody(model, {
    question: question.value, context: context.value, topK: Number(topK.value) || 1,
  }), (target, data, body) => renderQA(target, body.context, answersOf(data)));
  return form;
}

export function tokensBody(model, { text, aggregation }) {
  return { model: model.name, inputs: text, aggregation_strategy: aggregation };
}

// The text as text nodes with each entity in a <mark> that names its type (entities in text order,
// not overlapping: they are tokens, words or groups of them).
export function entityMarks(text, entities) {
  const block = el("p", { class: "context" });
  let at = 0;
  for (const e of [...entities].sort((a, b) => a.start - b.start)) {
    if (e.start < at) continue;
    const kind = e.entity_group || e.entity;
    block.append(text.slice(at, e.start),
      el("mark", { title: `${kind} ${fixed(e.score, 4)}` }, text.slice(e.start, e.end), el("sup", {}, kind)));
    at = e.end;
  }
  block.append(text.slice(at));
  return block;
}

function renderEntities(target, text, entities) {
  const rows = entities.map((e) => el("li", {}, el("strong", {}, e.entity_group || e.entity), " ",
    el("q", {}, e.word), ` score ${fixed(e.score, 4)} (characters ${e.start}–${e.end})`));
  target.append(entityMarks(text, entities),
    entities.length ? el("ol", { class: "answers" }, rows) : el("p", {}, el("em", {}, "no entities")));
}

function tokensForm(play) {
  const { model } = play;
  const text = el("textarea", { id: "play-tokens-text", name: "inputs", rows: 4, required: true });
  const aggregation = el("select", { id: "play-aggregation", name: "aggregation_strategy" },
    ["first", "simple", "average", "max", "none"].map((a) => el("option", { value: a }, a)));
  const form = el("form", { id: "tokens-form", class: "play" },
    field("play-tokens-text", "Text", text),
    field("play-aggregation", "aggregation_strategy", aggregation),
    el("button", { type: "submit" }, "Tag entities"));
  runner(play, form, () => tokensBody(model, { text: text.value, aggregation: aggregation.value }),
    (target, data, body) => renderEntities(target, body.inputs, data));
  return form;
}

// The /v1/embeddings body of two texts: their embeddings come back in order.
export function similarityBody(model, { first, second }) {
  return { model: model.name, input: [first, second], encoding_format: "float" };
}

// The cosine similarity of two vectors (null for a zero vector). The service's embeddings are
// unit length, so this is their dot product; it is computed in full all the same.
export function cosine(a, b) {
  let dot = 0;
  let aa = 0;
  let bb = 0;
  a.forEach((x, i) => {
    dot += x * b[i];
    aa += x * x;
    bb += b[i] * b[i];
  });
  return aa > 0 && bb > 0 ? dot / Math.sqrt(aa * bb) : null;
}

function renderSimilarity(target, data, suffix) {
  const [first, second] = data.data.map((d) => d.embedding);
  const value = cosine(first, second);
  target.append(
    el("p", { class: "best" }, "Cosine similarity: ", el("strong", { id: `play-cosine${suffix}` }, fixed(value, 4))),
    scoreBars([{ label: "cosine", score: value }]),
    el("p", { class: "timing", id: `play-dimensions${suffix}` },
      `${first.length} dimensions · ${data.usage.prompt_tokens} tokens`));
}

function similarityForm(play) {
  const { model } = play;
  const first = el("textarea", { id: "play-sim-first", name: "first", rows: 2, required: true });
  const second = el("textarea", { id: "play-sim-second", name: "second", rows: 2, required: true });
  const form = el("form", { id: "similarity-form", class: "play" },
    field("play-sim-first", "First sentence", first),
    field("play-sim-second", "Second sentence", second),
    el("button", { type: "submit" }, "Compare"));
  runner(play, form, () => similarityBody(model, { first: first.value, second: second.value }),
    (target, data, body, suffix) => renderSimilarity(target, data, suffix));
  return form;
}

// Form name (a serving task's `form`) -> its builder.
const FORMS = { classify: classificationForm, qa: qaForm, tokens: tokensForm, similarity: similarityForm };

// Replace the container's content with the playground of `model`; `compareWith()`: the model to
// send the same input to as well, or null.
export function renderPlayground(container, model, compareWith = () => null) {
  const output = el("div", { id: "play-output", class: "output", "aria-live": "polite" });
  const error = el("p", { id: "play-error", class: "error", role: "alert", hidden: true });
  const build = FORMS[model.form];
  if (!build) {
    container.replaceChildren(el("p", {}, `No playground for the task ${model.task} (form ${model.form}).`));
    return;
  }
  container.replaceChildren(build({ model, output, error, compareWith }), error, output);
}
