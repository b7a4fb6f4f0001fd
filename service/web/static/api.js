// Calls to the service, exactly as a client makes them, plus two small DOM helpers.
// The API key (when the server has one) lives in sessionStorage: this browser tab only.

const KEY_NAME = "distilserve.apiKey";

export function apiKey() {
  return sessionStorage.getItem(KEY_NAME) || "";
}

export function setApiKey(value) {
  sessionStorage.setItem(KEY_NAME, value);
}

// The timing headers of an inference response (null when absent).
export function timingOf(headers) {
  return {
    queueMs: headers.get("X-Queue-Time-Ms"),
    inferenceMs: headers.get("X-Inference-Time-Ms"),
    batchSize: headers.get("X-Batch-Size"),
  };
}

// The service's error body {"error": {status, type, message}} as one line, unchanged.
async function errorMessage(response) {
  const text = await response.text();
  try {
    const error = JSON.parse(text).error;
    if (error && error.message !== undefined) {
      return `${error.status} ${error.type}: ${error.message}`;
    }
  } catch (_) {
    // not JSON: shown as it came
  }
  return `${response.status} ${response.statusText}${text ? ": " + text : ""}`;
}

// fetch() a path relative to the page; `as`: "json", "text" or "blob".
// Resolves to {ok, status, data | message, timing}; never throws for an HTTP status.
export async function call(path, { method = "GET", body, as = "json" } = {}) {
  const headers = {};
  const key = apiKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    return { ok: false, status: 0, message: `no answer from the server (${error.message})` };
  }
  const timing = timingOf(response.headers);
  if (!response.ok) {
    return { ok: false, status: response.status, message: await errorMessage(response), timing };
  }
  const data = as === "blob" ? await response.blob() : as === "text" ? await response.text() : await response.json();
  return { ok: true, status: response.status, data, timing };
}

// el("p", {class: "x"}, "text", child): a new element; attributes as given, children appended.
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

// Show a message in an element (role="alert" regions read it out), or hide it with null.
export function showMessage(node, message) {
  node.textContent = message || "";
  node.hidden = !message;
}
