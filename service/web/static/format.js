// Number formats shared by the page's tables.

const DASH = "–";

export function fixed(value, digits = 2, unit = "") {
  return value === null || value === undefined || Number.isNaN(value) ? DASH : `${value.toFixed(digits)}${unit}`;
}

export function percent(fraction) {
  return fraction === null || fraction === undefined ? DASH : `${(fraction * 100).toFixed(1)}%`;
}

export function ms(seconds) {
  return seconds === null || seconds === undefined ? DASH : `${(seconds * 1000).toFixed(seconds < 0.01 ? 2 : 1)} ms`;
}

export function megabytes(bytes) {
  return bytes === null || bytes === undefined ? DASH : `${(bytes / 1e6).toFixed(2)} MB`;
}

export function count(value) {
  return value === null || value === undefined ? DASH : value.toLocaleString("en");
}
