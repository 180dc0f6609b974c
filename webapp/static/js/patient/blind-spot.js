// Viewing distance by the blind spot (virtual chinrest: Li, Joo, Yeatman & Reinecke 2020,
// Sci Rep 10:904). The left eye fixates a square; a dot moves left from it; the patient presses
// when it vanishes. The dot's offset from the square in mm is sent to the server, which computes
// d = offset_mm / tan(13.5 deg). Five sweeps by default.

export const SWEEPS = 5;
const SPEED_MM_PER_S = 30;

export class BlindSpotSweep extends EventTarget {
  constructor({ area, fixation, dot }) {
    super();
    this.area = area;
    this.fixation = fixation;
    this.dot = dot;
    this.offsetsMm = [];
    this.running = false;
    this.cssPxPerMm = 4;
  }

  reset(cssPxPerMm) {
    this.cssPxPerMm = cssPxPerMm;
    this.offsetsMm = [];
    this.stop();
    this.dispatchEvent(new Event("change"));
  }

  fixationX() {
    return this.area.clientWidth * 0.85;
  }

  start() {
    if (this.running || this.offsetsMm.length >= SWEEPS) return;
    this.fixation.style.left = `${this.fixationX()}px`;
    this.running = true;
    this.dot.hidden = false;
    const startedAt = performance.now();
    const tick = (now) => {
      if (!this.running) return;
      const offsetPx = ((now - startedAt) / 1000) * SPEED_MM_PER_S * this.cssPxPerMm;
      const x = this.fixationX() - offsetPx;
      if (x < 8) {
        // Reached the edge without a press: the screen is too narrow or the patient missed it.
        this.stop();
        this.dispatchEvent(new CustomEvent("missed"));
        return;
      }
      this.dotX = x;
      this.dot.style.left = `${x}px`;
      this.frame = requestAnimationFrame(tick);
    };
    this.dotX = this.fixationX();
    this.frame = requestAnimationFrame(tick);
    this.dispatchEvent(new Event("change"));
  }

  /** The patient says the dot vanished: record this sweep's offset. */
  vanished() {
    if (!this.running) return;
    const offsetMm = (this.fixationX() - this.dotX) / this.cssPxPerMm;
    this.stop();
    this.offsetsMm.push(Math.round(offsetMm * 10) / 10);
    this.dispatchEvent(new Event("change"));
  }

  stop() {
    this.running = false;
    cancelAnimationFrame(this.frame);
    this.dot.hidden = true;
  }

  get complete() {
    return this.offsetsMm.length >= SWEEPS;
  }
}
