// Draws optotypes exactly from the server's geometry (GET /optotypes.json): SVG path data on a
// 5 x 5 stroke grid, so stroke = height / 5 (Sloan, NAS-NRC 1980; Landolt C, ISO 8596).
// The page never invents a size: it draws `height_css_px` as given and reports the ink it drew
// (measureInk). Drawn whole: overflow is visible, so no rounding of the svg's box cuts an edge.
import { el, svgEl } from "./dom.js";

let geometryPromise = null;

/** The geometry document, fetched once per page. */
export function loadGeometry() {
  if (!geometryPromise) {
    geometryPromise = fetch("/optotypes.json", { credentials: "same-origin" }).then((response) => {
      if (!response.ok) throw new Error(`optotype geometry unavailable (${response.status})`);
      return response.json();
    });
  }
  return geometryPromise;
}

function pathFor(geometry, setName, symbol) {
  const set = geometry.sets?.[setName];
  const d = set?.symbols?.[symbol];
  if (typeof d !== "string") throw new Error(`no geometry for ${setName} ${symbol}`);
  return d;
}

/** One optotype as an inline <svg> of height_css_px x height_css_px CSS px, viewBox 0 0 5 5. */
export function optotypeSvg(geometry, setName, symbol, heightCssPx) {
  const grid = geometry.grid || 5;
  const svg = svgEl(
    "svg",
    {
      viewBox: `0 0 ${grid} ${grid}`,
      width: heightCssPx,
      height: heightCssPx,
      class: "optotype",
      "aria-hidden": "true",
      focusable: "false",
      dataset: { optotype: symbol },
    },
    svgEl("path", { d: pathFor(geometry, setName, symbol), "fill-rule": geometry.fill_rule || "evenodd" }),
  );
  // Exact CSS size (attributes alone can be overridden by a stylesheet). Overflow visible: an inline
  // svg clips by default (UA stylesheet), to its box rounded to whole pixels, which cut the right
  // and bottom edges off letters centred at fractional positions (issue 11: -8.5% at logMAR -0.30).
  svg.style.width = `${heightCssPx}px`;
  svg.style.height = `${heightCssPx}px`;
  svg.style.overflow = "visible";
  return svg;
}

/**
 * Crowding bars around a stimulus, in strokes (grid units), from the geometry's `crowding` block
 * (bars drawn for one optotype at 0..5 x 0..5). For a row the side bars move out to the row's ends
 * and the top and bottom bars span the row. Returns {bars, box: [x, y, w, h]} or null.
 */
export function crowdingLayout(geometry, letterCount) {
  const spec = geometry.crowding;
  if (!spec?.bars?.length) return null;
  const grid = geometry.grid || 5;
  const gap = geometry.chart_letter_gap_strokes ?? grid;
  const rowWidth = letterCount * grid + (letterCount - 1) * gap;
  const extra = rowWidth - grid;
  const bars = spec.bars.map((bar) => {
    if (bar.side === "right") return { ...bar, x: bar.x + extra };
    if (bar.side === "top" || bar.side === "bottom") return { ...bar, width: bar.width + extra };
    return { ...bar };
  });
  const xs = bars.flatMap((bar) => [bar.x, bar.x + bar.width]).concat([0, rowWidth]);
  const ys = bars.flatMap((bar) => [bar.y, bar.y + bar.height]).concat([0, grid]);
  const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  return { bars, box: [minX, minY, maxX - minX, maxY - minY], rowWidth };
}

/**
 * Render a stimulus ({optotypes, height_css_px, mirrored, crowding, optotype_set}) into `host`.
 * Returns the optotypes' <svg>s (measured afterwards with measureInk).
 *
 * One outer <svg> holds the whole stimulus in grid units (strokes): each optotype a nested <svg>
 * at its place in the row, the crowding bars beside them. The browser rounds the position of each
 * box it lays out to a whole pixel, so letters and bars drawn as separate boxes could each move by
 * up to half a pixel, putting a bar up to a pixel nearer or farther than one letter width. Inside
 * one svg, positions are exact to a fraction of a pixel: only the stimulus as a whole is rounded.
 */
export function renderStimulus(host, geometry, stimulus) {
  const height = Number(stimulus.height_css_px);
  const grid = geometry.grid || 5;
  const pxPerStroke = height / grid;
  const symbols = stimulus.optotypes || [];
  // Letters in a row one letter width apart (ETDRS; geometry's chart_letter_gap_strokes), or as the
  // server says (a text-like row: a stroke apart).
  const gapStrokes = stimulus.letter_gap_strokes ?? geometry.chart_letter_gap_strokes ?? grid;
  const layout = stimulus.crowding ? crowdingLayout(geometry, symbols.length) : null;
  const rowWidth = symbols.length * grid + Math.max(0, symbols.length - 1) * gapStrokes;
  const [x, y, w, h] = layout ? layout.box : [0, 0, rowWidth, grid];
  const drawing = svgEl("svg", {
    class: "stimulus-drawing", "aria-hidden": "true", focusable: "false", viewBox: `${x} ${y} ${w} ${h}`,
    width: w * pxPerStroke, height: h * pxPerStroke,
  });
  drawing.style.width = `${w * pxPerStroke}px`;
  drawing.style.height = `${h * pxPerStroke}px`;
  drawing.style.overflow = "visible"; // never cut by the rounding of its box (see optotypeSvg)
  if (layout) {
    const bars = svgEl("g", { class: "crowding", dataset: { crowding: "" } });
    for (const bar of layout.bars) bars.append(svgEl("rect", { x: bar.x, y: bar.y, width: bar.width, height: bar.height }));
    drawing.append(bars);
  }
  const svgs = symbols.map((symbol, index) => {
    const letter = svgEl(
      "svg",
      { x: index * (grid + gapStrokes), y: 0, width: grid, height: grid, viewBox: `0 0 ${grid} ${grid}`,
        class: "optotype", dataset: { optotype: symbol } },
      svgEl("path", { d: pathFor(geometry, stimulus.optotype_set, symbol), "fill-rule": geometry.fill_rule || "evenodd" }),
    );
    letter.style.overflow = "visible";
    return letter;
  });
  drawing.append(...svgs);
  const frame = el("div", { class: "stimulus", dataset: { stimulus: "", logmar: stimulus.logmar } }, drawing);
  // Mirror set-up: the patient sees the screen in a mirror, so draw it reversed.
  if (stimulus.mirrored) frame.style.transform = "scaleX(-1)";
  host.replaceChildren(frame);
  return svgs;
}

/**
 * The ink of each optotype as it is on screen, in device px: [[width, height], ...] in the order of
 * `svgs`. Measured, not assumed: the path's bounding box (the shape's own outline) mapped to the
 * viewport through everything that places and scales it (viewBox, CSS transforms, position: the
 * path's getBoundingClientRect), cut by every box that clips it (an element whose overflow is not
 * visible, the window, the visual viewport), then times devicePixelRatio (browser zoom, the
 * monitor) and visualViewport.scale (pinch zoom): the two factors from CSS px to the screen's
 * pixels (CSSOM View). Chromium rounds a clip rectangle to whole CSS px (Visus measured an inline
 * svg clipped 10 px tall for a box of 10.93), so only the whole CSS px inside a clipping box count.
 */
export function measureInk(svgs) {
  const zoom = window.visualViewport?.scale ?? 1;
  const toDevicePx = window.devicePixelRatio * zoom;
  const view = window.visualViewport;
  const screen = view
    ? [view.offsetLeft, view.offsetTop, view.offsetLeft + view.width, view.offsetTop + view.height]
    : [0, 0, window.innerWidth, window.innerHeight];
  return svgs.map((svg) => {
    const ink = svg.querySelector("path").getBoundingClientRect();
    let [left, top, right, bottom] = [ink.left, ink.top, ink.right, ink.bottom];
    const clips = [screen];
    for (let node = svg; node && node !== document.documentElement; node = node.parentElement) {
      const style = getComputedStyle(node);
      if (style.overflowX === "visible" && style.overflowY === "visible") continue;
      const box = node.getBoundingClientRect();
      // The clip is the padding box (inside the borders), shrunk to whole CSS px.
      const inner = [
        box.left + parseFloat(style.borderLeftWidth), box.top + parseFloat(style.borderTopWidth),
        box.right - parseFloat(style.borderRightWidth), box.bottom - parseFloat(style.borderBottomWidth),
      ];
      clips.push([Math.ceil(inner[0] - 1e-6), Math.ceil(inner[1] - 1e-6),
        Math.floor(inner[2] + 1e-6), Math.floor(inner[3] + 1e-6)]);
    }
    for (const [clipLeft, clipTop, clipRight, clipBottom] of clips) {
      left = Math.max(left, clipLeft);
      top = Math.max(top, clipTop);
      right = Math.min(right, clipRight);
      bottom = Math.min(bottom, clipBottom);
    }
    return [Math.max(0, right - left) * toDevicePx, Math.max(0, bottom - top) * toDevicePx];
  });
}
