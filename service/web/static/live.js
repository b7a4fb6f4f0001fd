// The live panel: reads /metrics/summary (cumulative counts and histogram buckets of the service's
// Prometheus metrics) every few seconds and shows what happened between the last two reads:
// requests/s and errors/s like rate(), p50/p99 like histogram_quantile() over the bucket
// differences, queue depth as it is now, and batches/s and mean batch size of the model calls.

import { call, el } from "./api.js";
import { fixed, ms } from "./format.js";

// The q-quantile of a histogram given by finite upper bounds and cumulative counts (one more
// count than bounds: the +Inf bucket), interpolated linearly inside the bucket, as Prometheus'
// histogram_quantile() does. null when the histogram is empty.
export function quantile(q, bounds, counts) {
  const total = counts[counts.length - 1];
  if (!(total > 0)) return null;
  const rank = q * total;
  let i = counts.findIndex((c) => c >= rank);
  if (i >= bounds.length) return bounds[bounds.length - 1] ?? null; // in the +Inf bucket
  const lower = i === 0 ? 0 : bounds[i - 1];
  const below = i === 0 ? 0 : counts[i - 1];
  const inBucket = counts[i] - below;
  return inBucket > 0 ? lower + (bounds[i] - lower) * ((rank - below) / inBucket) : bounds[i];
}

// cur - prev of a histogram (the whole of cur when prev is missing or has other buckets).
export function histogramDelta(cur, prev) {
  if (!prev || prev.counts.length !== cur.counts.length) return cur;
  return { bounds: cur.bounds, counts: cur.counts.map((c, i) => c - prev.counts[i]), sum: cur.sum - prev.sum };
}

function byKey(items, key) {
  return new Map(items.map((item) => [key(item), item]));
}

// What happened between two snapshots, per route and per model.
export function windowStats(prev, cur) {
  const seconds = cur.time - prev.time;
  const rate = (now, before) => (seconds > 0 ? (now - before) / seconds : null);
  const oldRoutes = byKey(prev.routes, (r) => `${r.model} ${r.route}`);
  const routes = cur.routes.map((r) => {
    const old = oldRoutes.get(`${r.model} ${r.route}`);
    const duration = histogramDelta(r.duration, old && old.duration);
    return {
      model: r.model, route: r.route,
      requestsPerS: rate(r.requests, old ? old.requests : 0),
      errorsPerS: rate(r.errors, old ? old.errors : 0),
      p50: quantile(0.5, duration.bounds, duration.counts),
      p99: quantile(0.99, duration.bounds, duration.counts),
    };
  });
  const oldModels = byKey(prev.models, (m) => m.model);
  const models = cur.models.map((m) => {
    const old = oldModels.get(m.model);
    const sizes = histogramDelta(m.batch_size, old && old.batch_size);
    const inference = histogramDelta(m.inference, old && old.inference);
    const batches = sizes.counts[sizes.counts.length - 1];
    return {
      model: m.model, queueDepth: m.queue_depth,
      batchesPerS: rate(batches, 0),
      meanBatchSize: batches > 0 ? sizes.sum / batches : null,
      inferenceP50: quantile(0.5, inference.bounds, inference.counts),
    };
  });
  return { seconds, routes, models };
}

function cells(values) {
  return el("tr", {}, values.map((v, i) => (i === 0 ? el("th", { scope: "row" }, v) : el("td", {}, v))));
}

export function renderStats(root, stats) {
  root.querySelector("#live-routes tbody").replaceChildren(...stats.routes.map((r) => cells([
    r.model, r.route, fixed(r.requestsPerS, 2), fixed(r.errorsPerS, 2), ms(r.p50), ms(r.p99)])));
  root.querySelector("#live-models tbody").replaceChildren(...stats.models.map((m) => cells([
    m.model, String(m.queueDepth), fixed(m.batchesPerS, 2), fixed(m.meanBatchSize, 2), ms(m.inferenceP50)])));
  root.querySelector("#live-note").textContent =
    `Over the last ${stats.seconds.toFixed(1)} s (differences of /metrics/summary between two reads).`;
}

// Read the summary now and every `intervalMs`; draw from the second read on.
export function startLive(root, intervalMs) {
  let previous = null;
  const tick = async () => {
    const result = await call("metrics/summary");
    if (!result.ok) {
      root.querySelector("#live-note").textContent = `live figures unavailable: ${result.message}`;
      return;
    }
    if (previous) renderStats(root, windowStats(previous, result.data));
    previous = result.data;
  };
  tick();
  return setInterval(tick, intervalMs);
}
