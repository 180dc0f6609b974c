// DOM helpers. Elements are found by data- attributes (never by class or id used for styling);
// text from the server or the user is always set with textContent.

/** The first element with data-<name> (optionally ="value") under root. */
export function find(name, value, root = document) {
  const selector = value === undefined ? `[data-${name}]` : `[data-${name}="${CSS.escape(value)}"]`;
  return root.querySelector(selector);
}

export function findAll(name, value, root = document) {
  const selector = value === undefined ? `[data-${name}]` : `[data-${name}="${CSS.escape(value)}"]`;
  return Array.from(root.querySelectorAll(selector));
}

/** Create an element: el("li", {class: "x", dataset: {trial: "3"}}, "text", child, ...). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const SVG_NS = "http://www.w3.org/2000/svg";

export function svgEl(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null) continue;
    if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, String(value));
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

/** Set text only when it changed (keeps aria-live regions from re-announcing). */
export function setText(node, text) {
  if (node && node.textContent !== text) node.textContent = text;
}

/** Parse the JSON in <script type="application/json" data-name> (CSP-safe way to pass server data). */
export function readJson(name) {
  const node = find(name);
  if (!node) return null;
  return JSON.parse(node.textContent);
}

/**
 * Import server-made SVG markup (e.g. a QR code) without HTML parsing: parsed as XML, checked to be
 * an <svg> with no scripts, event handlers, foreign content or external references.
 */
export function importSvg(markup) {
  // Inline SVG (as segno writes it for HTML) may omit the namespace that XML parsing needs.
  const xml = /^\s*<svg\b[^>]*\sxmlns=/.test(markup) ? markup : markup.replace(/^\s*<svg\b/, `<svg xmlns="${SVG_NS}"`);
  const parsed = new DOMParser().parseFromString(xml, "image/svg+xml");
  const root = parsed.documentElement;
  if (root.namespaceURI !== SVG_NS || root.localName !== "svg") throw new Error("not an SVG document");
  for (const node of [root, ...root.querySelectorAll("*")]) {
    if (["script", "foreignObject", "iframe", "image", "use", "a"].includes(node.localName)) node.remove();
    for (const attr of Array.from(node.attributes || [])) {
      const name = attr.name.toLowerCase();
      if (name.startsWith("on") || name === "href" || name === "xlink:href" || name === "style") {
        node.removeAttribute(attr.name);
      }
    }
  }
  return document.importNode(root, true);
}
