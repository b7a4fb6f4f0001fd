// The page: the API key form, the table of loaded models and their readiness, and the model
// choice that drives the playground and the model card; then the live panel.

import { apiKey, call, el, setApiKey, showMessage } from "./api.js";
import { renderCard } from "./card.js";
import { startLive } from "./live.js";
import { renderPlayground, takesPairs } from "./playground.js";

const page = document.body;
const needsKey = page.dataset.auth === "required";
const refreshMs = Number(page.dataset.refreshMs) || 3000;
let models = [];
let states = {};

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

function choose(name) {
  const model = models.find((m) => m.name === name);
  if (!model) return;
  renderPlayground(document.getElementById("playground"), model);
  renderCard(document.getElementById("card"), model.name);
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
await readiness();
await loadModels(); // without a needed key: the 401 as the service words it, next to the key form
watchReadiness();
startLive(page, refreshMs);
