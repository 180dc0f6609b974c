// The on-screen ID-1 card the patient resizes until it matches a real card held against the screen
// (ISO/IEC 7810 ID-1: 85.60 x 53.98 mm, corner radius 2.88-3.48 mm; method of the virtual chinrest,
// Li et al. 2020, and FrACT). CSS px per mm = card width in CSS px / 85.60; the server validates it.
import { t } from "../i18n.js";

export const CARD_WIDTH_MM = 85.6;
export const CARD_HEIGHT_MM = 53.98;
export const CARD_CORNER_MM = 3.0;

// The widths the card can take, in CSS px (a card on a coarse TV to one on a very sharp phone).
export const MIN_WIDTH_CSS_PX = 100;
export const MAX_WIDTH_CSS_PX = 2200;
// The slider runs over the widths on a log scale, so one step is the same fraction of the card at
// every size: 3000 positions give 0.103% (about 0.09 mm of the card's 85.6 mm) per step.
export const SLIDER_POSITIONS = 3000;
// One arrow press: 0.1 mm of the card's side; with Shift 1 mm; Page Up/Down 5 mm.
const FINE_STEP_MM = 0.1;
const SHIFT_STEP_MM = 1.0;
const PAGE_STEP_MM = 5.0;

/** The slider position (0..SLIDER_POSITIONS, not rounded) that shows this card width. */
export function sliderPosition(widthCssPx) {
  const span = Math.log(MAX_WIDTH_CSS_PX / MIN_WIDTH_CSS_PX);
  return (Math.log(widthCssPx / MIN_WIDTH_CSS_PX) / span) * SLIDER_POSITIONS;
}

/** The card width, in CSS px, of a slider position. */
export function widthAtPosition(position) {
  return MIN_WIDTH_CSS_PX * (MAX_WIDTH_CSS_PX / MIN_WIDTH_CSS_PX) ** (position / SLIDER_POSITIONS);
}

export class CardSizer extends EventTarget {
  /** card: the card element; slider: an <input type=range>; readout: a text element. */
  constructor({ card, slider, readout, stepButtons, turnButton }) {
    super();
    this.card = card;
    this.slider = slider;
    this.readout = readout;
    slider.min = "0";
    slider.max = String(SLIDER_POSITIONS);
    slider.step = "any";
    // A phone is narrower than a card held sideways: there the card stands upright and its short
    // side is matched (the scale is the same, only the side measured differs).
    this.portrait = window.innerWidth < 480;
    // A first guess: 96 CSS px per inch is what browsers aim for on desktops (phones: about 150).
    this.setWidth(this.horizontalMm * ((this.portrait ? 150 : 96) / 25.4));
    turnButton?.addEventListener("click", () => this.turn());

    slider.addEventListener("input", () => this.setWidth(widthAtPosition(Number(slider.value))));
    // The slider's own arrow keys would move by 1% of its range (step "any"): use the card's steps.
    slider.addEventListener("keydown", (event) => this.onKey(event));
    card.addEventListener("keydown", (event) => this.onKey(event));
    for (const button of stepButtons) {
      button.addEventListener("click", () => this.stepMm(Number(button.dataset.cardStep) * FINE_STEP_MM * 10));
    }
    this.bindDrag();
  }

  /** The card's side shown horizontally, in mm. */
  get horizontalMm() {
    return this.portrait ? CARD_HEIGHT_MM : CARD_WIDTH_MM;
  }

  get cssPxPerMm() {
    return this.width / this.horizontalMm;
  }

  /** Stand the card upright or lay it down, keeping the scale. */
  turn() {
    const scale = this.cssPxPerMm;
    this.portrait = !this.portrait;
    this.setWidth(scale * this.horizontalMm);
  }

  /** Grow (or shrink) the card's horizontal side by this many mm of the real card. */
  stepMm(mm) {
    this.setWidth(this.width + mm * this.cssPxPerMm);
  }

  setWidth(widthCssPx) {
    // Hundredths of a CSS px: far below what an eye can match, and what the scale is sent with.
    const width = Math.min(MAX_WIDTH_CSS_PX, Math.max(MIN_WIDTH_CSS_PX, Math.round(widthCssPx * 100) / 100));
    this.width = width;
    const scale = width / this.horizontalMm;
    this.card.dataset.orientation = this.portrait ? "portrait" : "landscape";
    this.card.style.width = `${width}px`;
    const height = (this.portrait ? CARD_WIDTH_MM : CARD_HEIGHT_MM) * scale;
    // Upright (a phone), only the width is matched: the card is drawn cut short, so that the step
    // and its button fit the screen while the real card is held over it.
    const shown = this.portrait ? Math.min(height, window.innerHeight * 0.28) : height;
    const corner = CARD_CORNER_MM * scale;
    this.card.dataset.cropped = String(shown < height);
    this.card.style.height = `${shown}px`;
    this.card.style.borderRadius = shown < height ? `${corner}px ${corner}px 0 0` : `${corner}px`;
    const position = sliderPosition(width);
    if (Math.abs(Number(this.slider.value) - position) > 1e-6) this.slider.value = String(position);
    // Screen readers hear the size in plain words, never in pixels.
    const percent = Math.round((position / SLIDER_POSITIONS) * 1000) / 10;
    this.card.setAttribute("aria-valuenow", String(width));
    this.card.setAttribute("aria-valuetext", t("size {percent} of 100", { percent }));
    this.slider.setAttribute("aria-valuetext", t("size {percent} of 100", { percent }));
    this.readout.textContent = this.portrait ? t("The card stands upright: match the short side of your card.") : "";
    this.dispatchEvent(new Event("change"));
  }

  onKey(event) {
    const step = event.shiftKey ? SHIFT_STEP_MM : FINE_STEP_MM;
    const steps = {
      ArrowRight: step, ArrowUp: step, ArrowLeft: -step, ArrowDown: -step, PageUp: PAGE_STEP_MM, PageDown: -PAGE_STEP_MM,
    };
    if (event.key in steps) {
      event.preventDefault();
      this.stepMm(steps[event.key]);
    }
  }

  bindDrag() {
    let startX = 0;
    let startWidth = 0;
    let dragging = false;
    this.card.addEventListener("pointerdown", (event) => {
      dragging = true;
      startX = event.clientX;
      startWidth = this.width;
      this.card.setPointerCapture(event.pointerId);
      this.card.focus();
    });
    this.card.addEventListener("pointermove", (event) => {
      if (dragging) this.setWidth(startWidth + (event.clientX - startX));
    });
    const stop = () => { dragging = false; };
    this.card.addEventListener("pointerup", stop);
    this.card.addEventListener("pointercancel", stop);
  }
}
