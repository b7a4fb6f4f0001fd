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

// A count in millions with one decimal ("109.5 M"); below a million, in full.
export function millions(value) {
  return value === null || value === undefined || value < 1e6 ? count(value) : `${(value / 1e6).toFixed(1)} M`;
}

// Milliseconds with about three significant digits and no unit (the column names it).
export function milliseconds(value) {
  return value === null || value === undefined ? DASH : fixed(value, value >= 100 ? 0 : value >= 10 ? 1 : 2);
}
