// The page: the API key form, the table of loaded models and their readiness, and the model
// choice that drives the playground and the model card, and the model to compare with (its
// teacher when one is loaded); then the live panel.

import { apiKey, call, el, setApiKey, showMessage } from "./api.js";
import { renderCard } from "./card.js";
import { comparable, teacherAmong } from "./compare.js";
import { startLive } from "./live.js";
import { renderPlayground, takesPairs } from "./playground.js";

const page = document.body;
const needsKey = page.dataset.auth === "required";
const refreshMs = Number(page.dataset.refreshMs) || 3000;
let models = [];
let states = {};
let chosen = null;
let compareTouched = false;

// /readyz: {"status": "ready", "models": {name: state}} once warm; 503 with the message before.
async function readiness() {
  const result = await call("readyz");
  const badge = document.getElementById("readiness");
  badge.textContent = result.ok ? "ready" : `not ready: ${result.message}`;
  badge.className = `badge ${result.ok ? "ok" : "warn"}`;
  states = result.ok ? result.data.models : {};
  return result.ok;
}

function modelRow(m) {
  return el("tr", {},
    el("th", { scope: "row" }, m.name), el("td", {}, m.task), el("td", {}, m.variant),
    el("td", {}, m.provider), el("td", {}, String(m.max_seq_len)),
    el("td", {}, m.labels.length ? m.labels.join(", ") : "–"),
    el("td", {}, takesPairs(m) ? "yes" : "no"),
    el("td", {}, states[m.name] || "warming"));
}

function drawModels(failed = []) {
  const rows = models.map(modelRow);
  for (const f of failed) {
    rows.push(el("tr", { class: "failed" }, el("th", { scope: "row" }, f.name),
      el("td", { colspan: 7 }, `not loaded: ${f.error}`)));
  }
  document.querySelector("#models tbody").replaceChildren(...rows);
}

// The "Compare with" choice for `model`: none, or another model of the same form. Returns those.
function compareChoices(model) {
  const select = document.getElementById("compare-select");
  const others = comparable(model, models);
  select.replaceChildren(el("option", { value: "" }, "none"), ...others.map((m) => el("option", { value: m.name }, m.name)));
  select.disabled = others.length === 0;
  document.getElementById("compare-note").textContent = others.length
    ? "one submit sends the same input to both models at once"
    : "no other loaded model takes this form";
  return others;
}

function compared() {
  return models.find((m) => m.name === document.getElementById("compare-select").value) || null;
}

// Show the playground and card of `name`; once its card is read, its teacher (when loaded and not
// chosen otherwise meanwhile) becomes the model to compare with.
async function choose(name) {
  const model = models.find((m) => m.name === name);
  if (!model) return;
  chosen = name;
  compareTouched = false;
  const others = compareChoices(model);
  renderPlayground(document.getElementById("playground"), model, compared);
  const card = await renderCard(document.getElementById("card"), model.name);
  const teacher = teacherAmong(model, card, others);
  if (teacher && chosen === name && !compareTouched) document.getElementById("compare-select").value = teacher.name;
}

async function loadModels() {
  const error = document.getElementById("models-error");
  const result = await call("v1/models");
  if (!result.ok) {
    showMessage(error, result.message);
    if (result.status === 401) document.getElementById("key-form").hidden = false;
    return;
  }
  showMessage(error, null);
  models = result.data.models;
  drawModels(result.data.failed);
  const select = document.getElementById("model-select");
  select.replaceChildren(...models.map((m) => el("option", { value: m.name }, `${m.name} (${m.task})`)));
  if (models.length) choose(models[0].name);
}

function keyForm() {
  const form = document.getElementById("key-form");
  const input = document.getElementById("api-key");
  form.hidden = !needsKey;
  input.value = apiKey();
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    setApiKey(input.value);
    loadModels();
  });
}

async function watchReadiness() {
  const ready = await readiness();
  drawModels();
  if (!ready) setTimeout(watchReadiness, refreshMs);
}

keyForm();
document.getElementById("model-select").addEventListener("change", (e) => choose(e.target.value));
document.getElementById("compare-select").addEventListener("change", () => { compareTouched = true; });
await readiness();
await loadModels(); // without a needed key: the 401 as the service words it, next to the key form
watchReadiness();
startLive(page, refreshMs);
