// Collecting one answer (one symbol per optotype shown) from buttons or keys, for the pad and
// the display. The server's `answer_request` says how many symbols and which ones are possible.
import { t } from "./i18n.js";
import { el } from "./dom.js";

export const NOT_SURE = null; // "not sure" is sent as null and scored as wrong by the server

const ARROWS = {
  right: "→", up: "↑", left: "←", down: "↓",
  "up-right": "↗", "up-left": "↖", "down-left": "↙", "down-right": "↘",
};
const DIRECTION_NAMES = {
  right: t("pointing right"), up: t("pointing up"), left: t("pointing left"), down: t("pointing down"),
  "up-right": t("pointing up and right"), "up-left": t("pointing up and left"), "down-left": t("pointing down and left"),
  "down-right": t("pointing down and right"),
};
// Keys for directions: arrow keys, and the numeric keypad's layout (7 8 9 / 4 _ 6 / 1 2 3) with or
// without Num Lock, so the diagonals of an 8-position Landolt C have keys too.
const DIRECTION_KEYS = {
  ArrowRight: "right", ArrowUp: "up", ArrowLeft: "left", ArrowDown: "down",
  Home: "up-left", PageUp: "up-right", End: "down-left", PageDown: "down-right",
  6: "right", 8: "up", 4: "left", 2: "down", 7: "up-left", 9: "up-right", 1: "down-left", 3: "down-right",
};
// Button order for directions: a 3 x 3 compass (the middle cell is left empty).
const COMPASS = ["up-left", "up", "up-right", "left", null, "right", "down-left", "down", "down-right"];

export function isDirectionSet(symbols) {
  return symbols.every((symbol) => symbol in ARROWS);
}

export function symbolLabel(symbol) {
  if (symbol === NOT_SURE) return t("not sure");
  return ARROWS[symbol] ? ARROWS[symbol] : symbol;
}

export function symbolName(symbol) {
  if (symbol === NOT_SURE) return t("not sure");
  return DIRECTION_NAMES[symbol] || t("letter {letter}", { letter: symbol });
}

/** The symbol (or NOT_SURE) a key stands for, or undefined when the key means nothing here. */
export function symbolForKey(event, symbols) {
  if (event.ctrlKey || event.metaKey || event.altKey) return undefined;
  if (event.key === " " || event.key === "Spacebar") return NOT_SURE;
  if (isDirectionSet(symbols)) {
    const symbol = DIRECTION_KEYS[event.key];
    return symbols.includes(symbol) ? symbol : undefined;
  }
  const letter = event.key.length === 1 ? event.key.toUpperCase() : "";
  return symbols.includes(letter) ? letter : undefined;
}

/** How to answer with a keyboard, in words, for this set. */
export function keyboardHelp(symbols) {
  if (isDirectionSet(symbols)) {
    return symbols.length > 4
      ? t("press the arrow key for the direction of the gap (for slanting directions use the number keys 7, 9, 1 " +
        "and 3, or Home, Page Up, End and Page Down).")
      : t("press the arrow key for the direction the shape points to.");
  }
  return t("type the letter you see ({letters}).", { letters: symbols.join(" ") });
}

/** Answer buttons for a set: `onPick(symbol)` is called with a symbol or NOT_SURE (its button
 * left out with `notSure: false`, where the page has its own "cannot see" button). */
export function answerButtons(symbols, onPick, { compact = false, notSure = true } = {}) {
  const buttons = [];
  const make = (symbol) => el("button", {
    type: "button",
    class: symbol === NOT_SURE ? "not-sure" : null,
    "aria-label": symbolName(symbol),
    dataset: { answer: symbol === NOT_SURE ? "not-sure" : symbol },
    onclick: () => onPick(symbol),
  }, symbolLabel(symbol));
  if (isDirectionSet(symbols) && !compact) {
    for (const cell of COMPASS) {
      if (cell && symbols.includes(cell)) buttons.push(make(cell));
      else buttons.push(el("span", { "aria-hidden": "true" }));
    }
  } else {
    for (const symbol of symbols) buttons.push(make(symbol));
  }
  if (notSure) buttons.push(make(NOT_SURE));
  return buttons;
}

/** Gathers `count` responses for one answer_request, then hands them over once. */
export class AnswerCollector extends EventTarget {
  constructor() {
    super();
    this.request = null;
    this.responses = [];
    this.startedAt = 0;
    this.sent = false;
  }

  start(request) {
    if (this.request && request && this.request.trial_id === request.trial_id && this.request.seq === request.seq) return;
    this.request = request;
    this.responses = [];
    this.sent = false;
    this.startedAt = performance.now();
    this.dispatchEvent(new Event("change"));
  }

  clear() {
    this.request = null;
    this.responses = [];
    this.dispatchEvent(new Event("change"));
  }

  get active() {
    return Boolean(this.request) && !this.sent;
  }

  add(symbol) {
    if (!this.active) return;
    this.responses.push(symbol);
    if (this.responses.length >= (this.request.count || 1)) {
      this.sent = true;
      const detail = {
        trial_id: this.request.trial_id,
        seq: this.request.seq,
        responses: this.responses.slice(),
        response_time_ms: Math.round(performance.now() - this.startedAt),
      };
      this.dispatchEvent(new Event("change"));
      this.dispatchEvent(new CustomEvent("complete", { detail }));
    } else {
      this.dispatchEvent(new Event("change"));
    }
  }

  undo() {
    if (!this.active || !this.responses.length) return;
    this.responses.pop();
    this.dispatchEvent(new Event("change"));
  }
}
