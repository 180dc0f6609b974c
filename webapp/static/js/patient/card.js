// The on-screen ID-1 card the patient resizes until it matches a real card held against the screen
// (ISO/IEC 7810 ID-1: 85.60 x 53.98 mm, corner radius 2.88-3.48 mm; method of the virtual chinrest,
// Li et al. 2020, and FrACT). CSS px per mm = card width in CSS px / 85.60; the server validates it.

export const CARD_WIDTH_MM = 85.6;
export const CARD_HEIGHT_MM = 53.98;
export const CARD_CORNER_MM = 3.0;

export class CardSizer extends EventTarget {
  /** card: the card element; slider: an <input type=range>; readout: a text element. */
  constructor({ card, slider, readout, stepButtons, turnButton }) {
    super();
    this.card = card;
    this.slider = slider;
    this.readout = readout;
    this.min = Number(slider.min);
    this.max = Number(slider.max);
    // A phone is narrower than a card held sideways: there the card stands upright and its short
    // side is matched (the scale is the same, only the side measured differs).
    this.portrait = window.innerWidth < 480;
    // A first guess: 96 CSS px per inch is what browsers aim for on desktops (phones: about 150).
    this.setWidth(this.horizontalMm * ((this.portrait ? 150 : 96) / 25.4));
    turnButton?.addEventListener("click", () => this.turn());

    slider.addEventListener("input", () => this.setWidth(Number(slider.value)));
    card.addEventListener("keydown", (event) => this.onKey(event));
    for (const button of stepButtons) {
      button.addEventListener("click", () => this.setWidth(this.width + Number(button.dataset.cardStep)));
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

  setWidth(widthCssPx) {
    const width = Math.min(this.max, Math.max(this.min, Math.round(widthCssPx * 2) / 2));
    this.width = width;
    const scale = width / this.horizontalMm;
    this.card.dataset.orientation = this.portrait ? "portrait" : "landscape";
    this.card.style.width = `${width}px`;
    this.card.style.height = `${(this.portrait ? CARD_WIDTH_MM : CARD_HEIGHT_MM) * scale}px`;
    this.card.style.borderRadius = `${CARD_CORNER_MM * scale}px`;
    if (Number(this.slider.value) !== width) this.slider.value = String(width);
    this.card.setAttribute("aria-valuenow", String(width));
    this.card.setAttribute("aria-valuetext", `${width} pixels wide`);
    this.readout.textContent = `On-screen card: ${width} screen points wide` +
      `${this.portrait ? " (standing upright: match the short side of your card)" : ""}.`;
    this.dispatchEvent(new Event("change"));
  }

  onKey(event) {
    const big = event.shiftKey ? 10 : 1;
    const steps = { ArrowRight: big, ArrowUp: big, ArrowLeft: -big, ArrowDown: -big, PageUp: 20, PageDown: -20 };
    if (event.key in steps) {
      event.preventDefault();
      this.setWidth(this.width + steps[event.key]);
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
