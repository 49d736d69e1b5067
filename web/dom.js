// DOM helpers shared by the views.

/** el creates an element with attributes and, if given, its text. */
export function el(tag, attrs = {}, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

/**
 * html escapes text for an HTML string: ECharts' tooltip formatters return
 * HTML, and names (steps from the URL, channels from the data) are text.
 */
export function html(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
