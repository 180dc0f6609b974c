// The clinician's live view: watches one session over /clinician and renders the snapshot, then
// each event as it arrives. On every (re)connect it watches again and re-renders from the snapshot.
import { Store } from "../store.js";
import { find, findAll, el, svgEl, setText, readJson } from "../dom.js";
import { connect, request } from "../socket.js";
import { loadGeometry, renderStimulus } from "../optotypes.js";
import { NOT_SURE, symbolForKey, symbolLabel } from "../answers.js";
import { ClinicianCall } from "../call.js";
import { distanceGuardText, distanceEventText } from "./distance.js";
import { confirmed } from "../confirm.js";

const session = readJson("session-json") || {};
// What a ✗ sends: the patient named a symbol wrongly (which one not noted); "not seen" is NOT_SURE.
const WRONG = session.wrong_response;
const sessionId = find("live-app").dataset.sessionId;

const store = new Store({
  snapshot: null,
  phase: null,
  status: session.status,
  pausedReason: null,
  actions: [], // the commands the server allows now (`status`)
  devices: { display: false, pad: false },
  helper: false, // a child's test: an adult taps the answers on the phone (`helper`)
  calibration: null,
  range: null,
  stimulus: null,
  trials: [], // every trial of every eye, in order
  eyes: [],
  estimate: null,
  estimateEye: null, // which eye the running estimate is for
  events: [],
  earlierEvents: 0, // stored events older than the snapshot's (on the result page)
  belowChart: null, // the server's `below_chart`: the eye to record below the chart, with its words
});
let geometry = null;
const socket = connect("/clinician", {});
const call = new ClinicianCall(socket, sessionId);

function showError(message) {
  const node = find("error");
  node.hidden = !message;
  setText(node, message || "");
}

async function control(event, payload = {}) {
  const ack = await request(socket, event, { session_id: sessionId, ...payload });
  if (!ack.ok) showError(ack.message);
  else showError(null);
  return ack;
}

// ---------------------------------------------------------------- rendering

const EYE_NAMES = { right: "Right eye (OD)", left: "Left eye (OS)", both: "Both eyes (OU)" };

// The test's state in a clinician's words; the server's own names are one click away.
const STATUS_TEXT = {
  invited: "Waiting for the patient to open the link",
  active: "Test in progress",
  done: "Finished",
  ended: "Ended",
};
const PHASE_TEXT = {
  welcome: "The patient is reading the welcome page.",
  calibrate: "The patient is measuring the screen and the distance.",
  ready: "Calibrated: waiting for the patient to cover an eye and start.",
  testing: "The patient is reading the letters.",
  between_eyes: "Between eyes: waiting for the patient to cover the other eye.",
  done: "The patient's part is finished.",
};
const PAUSE_TEXT = {
  clinician: "Paused by you: press Resume to go on.",
  page_hidden: "Paused: the patient's test page went to the background (another tab or app). It goes on when they press Continue, or when you press Resume.",
  size_not_drawable: "Paused: the next size cannot be drawn on the patient's screen.",
  awaiting_ready: "Calibrated again: waiting for the patient to continue.",
};

function phaseText(phase, reason) {
  if (!phase) return "";
  if (phase === "paused" || (reason && PAUSE_TEXT[reason])) return PAUSE_TEXT[reason] || "Paused.";
  return PHASE_TEXT[phase] || phase;
}

function renderHeader() {
  const config = session.config || {};
  setText(find("config-summary"), [
    config.procedure, config.optotype_set, config.child ? "child" : null, config.setup, config.answer_mode === "clinician" ? "clinician scores" : "patient answers",
    (config.eyes || []).join(" then "),
  ].filter(Boolean).join(" · "));
  const status = store.get("status") || "";
  setText(find("status"), STATUS_TEXT[status] || status);
  const phase = store.get("phase");
  const reason = store.get("pausedReason");
  setText(find("phase"), phaseText(phase, reason));
  setText(find("phase-detail"), `status=${status} phase=${phase || "-"} paused_reason=${reason || "-"}`);
  const held = find("size-held");
  held.hidden = reason !== "size_not_drawable";
  const shareBox = find("share-results");
  if (config.show_results !== undefined && !shareBox.dataset.touched) shareBox.checked = Boolean(config.show_results);
}

function renderDevices() {
  const devices = store.get("devices");
  for (const pill of findAll("device")) {
    const on = Boolean(devices[pill.dataset.device]);
    pill.dataset.on = String(on);
    setText(pill, on ? "connected" : "not connected");
  }
  find("helper-line").hidden = !store.get("helper"); // a child's test: an adult taps for the child
}

function renderCalibration() {
  const cal = store.get("calibration");
  const range = store.get("range");
  const set = (key, text) => setText(find("cal", key), text);
  if (!cal) {
    for (const key of ["scale", "dpr", "viewport", "distance"]) set(key, "—");
    setText(find("calibration-summary"), "Not calibrated: the patient measures the screen and distance first.");
  } else {
    set("scale", `${Number(cal.css_px_per_mm).toFixed(3)} CSS px/mm (${cal.scale_method || "card"})`);
    set("dpr", String(cal.device_pixel_ratio));
    set("viewport", cal.viewport_css_px ? `${cal.viewport_css_px[0]} × ${cal.viewport_css_px[1]} CSS px` : "—");
    set("distance", `${cal.viewing_distance_text} (${(cal.distance_method || "").replace("_", " ")}${cal.mirrored ? ", mirrored" : ""})`);
    setText(find("calibration-summary"), `Calibrated at ${cal.position_text || cal.viewing_distance_text}` +
      `${range ? `; sizes ${range.text}` : ""}.`);
  }
  set("range", range ? range.text : "—");
  renderPresentChoices();
}

function renderStimulusPreview() {
  const stimulus = store.get("stimulus");
  const preview = find("preview");
  if (!stimulus) {
    preview.replaceChildren();
    find("drawn-check").replaceChildren();
    setText(find("stimulus-size"), "No letter shown.");
    renderScorePanel();
    return;
  }
  setText(find("stimulus-size"), `${stimulus.notation.text} · ${Number(stimulus.height_css_px).toFixed(1)} CSS px tall`);
  preview.dataset.logmar = stimulus.logmar;
  if (geometry) {
    // Scaled to fit the panel; shown as the patient sees it (through the mirror: the right way round).
    const count = stimulus.optotypes.length;
    // Row width in letter heights: letters and gaps, plus the crowding bars (about 1.2 each side).
    const gap = stimulus.letter_gap_strokes ?? geometry.chart_letter_gap_strokes ?? 5;
    const rowLetters = count + (count - 1) * (gap / 5) + (stimulus.crowding ? 2.6 : 0.2);
    const fit = Math.min(Number(stimulus.height_css_px), 90, ((preview.clientWidth || 300) - 16) / rowLetters);
    renderStimulus(preview, geometry, {
      ...stimulus, height_css_px: fit, mirrored: false, optotype_set: stimulus.optotype_set || session.config?.optotype_set,
    });
  }
  renderScorePanel();
}

function renderEstimate() {
  const estimate = store.get("estimate");
  const node = find("estimate");
  if (!estimate) setText(node, "No answers yet.");
  else {
    const eyeName = EYE_NAMES[store.get("estimateEye")];
    // Below the chart (low vision): the category's line, with no interval (nothing was measured).
    if (estimate.category) setText(node, `${eyeName ? `${eyeName}: ` : ""}${estimate.notation.text}`);
    else setText(node, `${eyeName ? `${eyeName}: ` : ""}${estimate.notation.text}; 95% interval ${estimate.notation.ci95_text}` +
      ` · ${estimate.optotypes_correct}/${estimate.optotypes_shown} correct` +
      `${estimate.finished ? " · finished" : ""}`);
  }
  const eyes = store.get("eyes");
  find("eyes").replaceChildren(...eyes.map((eye) => {
    const result = eye.result || eye.estimate;
    const trials = store.get("trials").filter((trial) => trial.eye === eye.eye).length;
    return el("li", { dataset: { eyeStatus: eye.status } },
      `${EYE_NAMES[eye.eye] || eye.eye}: ${eye.status}, ${trials} trial${trials === 1 ? "" : "s"}` +
      (result && eye.status === "done" ? `, result ${result.notation.text}` : "") +
      (result?.stopped_early_text && eye.status === "done" ? ` · ${result.stopped_early_text}` : ""));
  }));
  const active = eyes.findIndex((eye) => eye.status === "active");
  const current = store.get("trials").filter((trial) => trial.eye === eyes[active]?.eye).length;
  setText(find("progress-text"), active >= 0 ? `Eye ${active + 1} of ${eyes.length}: trial ${current + 1}` : "");
}

function answerItem(trial) {
  const correct = trial.correct || [];
  const right = correct.filter(Boolean).length;
  const all = correct.length > 0 && right === correct.length;
  const seconds = trial.response_time_ms != null ? `${(trial.response_time_ms / 1000).toFixed(1)} s` : "";
  const shown = (trial.optotypes || []).map(symbolLabel).join(" ");
  // A clinician's "not seen" is stored as no answer (the patient's own is "not sure"), a ✗ as WRONG.
  const said = (trial.responses || []).map((response) => (response === NOT_SURE && trial.scored_by === "clinician"
    ? "not seen" : response === WRONG ? "wrong" : symbolLabel(response))).join(" ");
  const grade = all ? "correct" : right > 0 ? "partial" : "wrong";
  return el("li", { class: grade, dataset: { trial: trial.trial_id, correct: String(all) } },
    `#${trial.index + 1} (${trial.eye} eye) · ${trial.notation.logmar} logMAR · shown ${shown} · answered ${said} · ` +
    `${correct.length > 1 ? `${right}/${correct.length} right` : all ? "right" : "wrong"}` +
    `${seconds ? ` · ${seconds}` : ""}${trial.scored_by === "clinician" ? " · scored by you" : ""}`);
}

function renderAnswers() {
  const trials = store.get("trials");
  const list = find("answers");
  // Newest first, so the latest answer is always in view.
  list.replaceChildren(...trials.slice().reverse().map(answerItem));
}

function renderPlot() {
  const svg = find("plot");
  const trials = store.get("trials");
  const width = 360;
  const height = 220;
  const left = 44;
  const bottom = 24;
  const top = 10;
  const range = store.get("range") || { min_logmar: -0.3, max_logmar: 1.0 };
  const logmars = trials.map((trial) => trial.logmar);
  const high = Math.max(range.max_logmar, ...logmars);
  const low = Math.min(range.min_logmar, ...logmars);
  const span = Math.max(high - low, 0.1);
  const count = Math.max(trials.length, 10);
  const x = (index) => left + ((index + 0.5) / count) * (width - left - 8);
  const y = (logmar) => top + ((high - logmar) / span) * (height - top - bottom);
  const children = [
    svgEl("line", { class: "axis", x1: left, y1: top, x2: left, y2: height - bottom }),
    svgEl("line", { class: "axis", x1: left, y1: height - bottom, x2: width - 4, y2: height - bottom }),
  ];
  const step = span > 0.8 ? 2 : 1; // in tenths of a logMAR
  for (let tenth = Math.ceil(low * 10 - 1e-6); tenth <= Math.floor(high * 10 + 1e-6); tenth += step) {
    const tick = tenth / 10;
    const text = svgEl("text", { x: 4, y: y(tick) + 4 });
    text.textContent = tick.toFixed(1);
    children.push(text);
  }
  const label = svgEl("text", { x: left, y: height - 6 });
  label.textContent = "trial →   (logMAR: larger = bigger letters)";
  children.push(label);
  // The running estimate and its 95% interval, across the trials of the eye it belongs to.
  const estimate = store.get("estimate");
  const ofEye = trials.map((trial, index) => (trial.eye === store.get("estimateEye") ? index : -1)).filter((i) => i >= 0);
  if (estimate && Number.isFinite(estimate.ci95_low_logmar) && ofEye.length) {
    const x1 = Math.max(left, x(ofEye[0] - 0.5));
    const x2 = x(ofEye[ofEye.length - 1] + 0.5);
    const yHigh = y(Math.min(high, estimate.ci95_high_logmar));
    const yLow = y(Math.max(low, estimate.ci95_low_logmar));
    children.push(svgEl("rect", {
      x: x1, width: Math.max(1, x2 - x1), y: yHigh, height: Math.max(1, yLow - yHigh), fill: "#0b57d0", "fill-opacity": "0.12",
      dataset: { plotEstimate: "" },
    }));
    children.push(svgEl("line", { x1, x2, y1: y(estimate.logmar), y2: y(estimate.logmar), stroke: "#0b57d0", "stroke-dasharray": "4 3" }));
  }
  let previousEye = null;
  trials.forEach((trial, index) => {
    if (previousEye && trial.eye !== previousEye) {
      children.push(svgEl("line", { class: "axis", x1: x(index - 0.5), x2: x(index - 0.5), y1: top, y2: height - bottom, "stroke-dasharray": "2 2" }));
    }
    previousEye = trial.eye;
    const correct = trial.correct || [];
    const right = correct.filter(Boolean).length;
    const ok = correct.length > 0 && right * 2 > correct.length;
    const mark = ok
      ? svgEl("circle", { class: "right", cx: x(index), cy: y(trial.logmar), r: 4, dataset: { plotTrial: trial.trial_id } })
      : svgEl("path", {
        class: "wrong", stroke: "#b3261e", "stroke-width": 2,
        d: `M${x(index) - 4} ${y(trial.logmar) - 4}l8 8m0 -8l-8 8`, dataset: { plotTrial: trial.trial_id },
      });
    const title = svgEl("title");
    title.textContent = `Trial ${index + 1}: ${trial.notation.logmar} logMAR, ${ok ? "right" : "wrong"}`;
    mark.append(title);
    children.push(mark);
  });
  svg.replaceChildren(...children);
}

function renderEvents() {
  const events = store.get("events").map(normalizeEvent);
  find("events").replaceChildren(...events.slice().reverse().map((event) => {
    const when = event.at ? new Date(event.at).toLocaleTimeString() : "";
    const technical = technicalDetail(event);
    return el("li", { class: WARNING_KINDS.has(event.kind) ? "warning" : "note", dataset: { eventKind: event.kind } },
      `${when} ${describeEvent(event)}`,
      technical ? el("details", { class: "tech" }, el("summary", {}, "Detail"), el("code", {}, technical)) : null);
  }));
  const earlier = store.get("earlierEvents");
  if (earlier) find("events").append(el("li", { class: "note" }, `${earlier} earlier events are on the result page.`));
}

// Stored page events (the snapshot) carry the server's kind as `page_kind`, apart from the page's
// own `detail`; live ones carry it as `kind`.
function normalizeEvent(event) {
  if (event.kind !== "page_event") return event;
  return { ...event, kind: event.page_kind || "page_event" };
}

/** What the page or the server sent, for the curious: the event's name, device and detail (none
 * for an event that is all in its words, such as a note or a consent). */
function technicalDetail(event) {
  const detail = event.detail && Object.keys(event.detail).length ? ` ${JSON.stringify(event.detail)}` : "";
  if (!detail && !WARNING_KINDS.has(event.kind)) return "";
  return `${event.kind}${event.device ? ` from ${event.device}` : ""}${detail}`;
}

const WARNING_KINDS = new Set(["hidden", "fullscreen_exit", "resize", "zoom", "warning", "calibration_invalidated"]);

const EVENT_TEXT = {
  hidden: "The patient's test page went to the background (another tab or app).",
  visible: "The patient's test page is in front again.",
  fullscreen_exit: "The patient's test page left full screen.",
  fullscreen_enter: "The patient's test page went full screen.",
  resize: "The patient's window changed size.",
  zoom: "The patient's screen was zoomed or changed: the letter sizes are no longer right.",
  consent: "The patient agreed to the test.",
  paused: "You paused the test.",
  resumed: "You resumed the test.",
  ended: "You ended the test.",
};

const REASON_TEXT = {
  drawn_size_off: "a letter was drawn more than 2% off its size",
  device_pixel_ratio_changed: "the patient's screen was zoomed or the window moved to another screen",
  zoom_or_screen_changed: "the patient's screen was zoomed or the window moved to another screen",
  clinician_request: "you asked for it",
  distance_check: "you asked to check the distance again",
  new_link: "you re-issued the link (the new screen calibrates)",
  window_too_small: "the patient's window became too small for the letter on screen",
};

function describeEvent(event) {
  const detail = event.detail || {};
  const texts = event.detail_text || {};  // the server's strings for the detail's distances and sizes
  const device = event.device === "pad" ? " (phone)" : "";
  const guard = distanceEventText(event);
  if (guard) return guard;
  switch (event.kind) {
    case "note":
      return `Note: ${event.text || ""}`;
    case "helper":
      return event.text || "";
    case "calibration":
      return `The patient calibrated: ${texts.viewing_distance_mm} from the screen` +
        `${texts.previous_viewing_distance_mm ? ` (before: ${texts.previous_viewing_distance_mm})` : ""}.`;
    case "calibration_invalidated":
      return `Calibration no longer valid: ${REASON_TEXT[detail.reason] || "see the detail"}. The patient is asked to measure again.`;
    case "present":
      return `You chose ${texts.logmar}.`;
    case "share_results":
      return detail.show ? "Results will be shown to the patient." : "Results will not be shown to the patient.";
    case "warning":
      return `Warning: ${describeWarning(detail, texts, event)}`;
    default:
      return `${(EVENT_TEXT[event.kind] || "The patient's page reported something.").replace(/\.$/, "")}${device}.`;
  }
}

function describeWarning(detail, texts, event) {
  switch (detail.code) {
    case "distance_differs":
      return `the measured distance, ${texts.viewing_distance_mm}, differs from the set-up's ${texts.setup_mm}.`;
    case "device_replaced":
      return `the patient's ${event.device === "pad" ? "phone" : "test screen"} connected again from a new connection (another device or tab, or after a restart); the older one was closed.`;
    case "events_dropped":
      return `the patient's pages reported more than ${detail.limit} events; ${detail.dropped} more were not stored.`;
    case "range_narrower_than_eye_test":
      return "the new calibration cannot show every size this eye's test may ask for.";
    case "size_not_drawable":
      return "the next size cannot be drawn on the patient's screen; choose another size or ask for a new calibration.";
    case "window_size_changed":
      if (detail.largest_logmar === null || detail.largest_logmar === undefined) {
        return "the patient's window became too small to show any letter.";
      }
      if (detail.largest_logmar >= detail.calibrated_largest_logmar) {
        return "the patient's window is large enough again for every size of the test.";
      }
      return `the patient's window became smaller: the largest letter it can show is now ${texts.largest_logmar}.`;
    default:
      return "see the detail, or the result page.";
  }
}

// ---------------------------------------------------------------- controls

for (const button of findAll("control")) {
  button.addEventListener("click", async () => {
    if (!confirmed(button)) return; // what cannot be taken back asks first (data-confirm)
    await control(button.dataset.control);
  });
}

// The distance alone measured again (a near test: the blind-spot sweep), the screen's scale kept.
const checkDistance = find("check-distance");
checkDistance.addEventListener("click", async () => {
  if (!confirmed(checkDistance)) return;
  await control("request_recalibration", { part: "distance" });
});

find("share-results").addEventListener("change", (event) => {
  event.target.dataset.touched = "1";
  control("share_results", { show: event.target.checked });
});

find("note-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = find("note-text").value.trim();
  if (!text) return;
  const ack = await control("note", { text });
  if (ack.ok) find("note-text").value = "";
});

function renderControls() {
  // What may be done now is the server's to say (`actions` in `status` and the snapshot).
  const actions = store.get("actions");
  for (const button of findAll("control")) button.disabled = !actions.includes(button.dataset.control);
  checkDistance.disabled = !actions.includes("request_recalibration");
  renderMove();
  // Manual procedure: always. Others: when the next size cannot be drawn and the test waits for one.
  const chooseSize = session.config?.procedure === "manual" || store.get("pausedReason") === "size_not_drawable";
  find("present-form").hidden = !chooseSize || !actions.includes("present");
}

// Clinician-scored mode. Each symbol shown gets what the patient said: typed (the letter keys, the
// arrow keys for directions, Space for "not seen"), or marked right or wrong with the buttons. Once
// every symbol has one, the score is held SCORE_HOLD_MS before it is sent: Backspace (or Undo) takes
// back the last mark, so nothing wrong is sent; Enter (or Send now) sends at once. The server
// commits a score as it comes and shows the next letter: a score sent is never taken back
// (docs/protocol.md, `score`).
const SCORE_HOLD_MS = 1500;
let scoreMarks = []; // per symbol shown: null (nothing yet) or {response: symbol | NOT_SURE | WRONG, via: "key"|"right"|"wrong"}
let scoreFor = null; // `${trial_id}:${seq}` the marks belong to
let holdTimer = 0;
let sending = false;

function scoringNow() {
  return session.config?.answer_mode === "clinician" && Boolean(store.get("stimulus")) && store.get("actions").includes("score");
}

function setSymbols() {
  const set = geometry?.sets?.[store.get("stimulus")?.optotype_set || session.config?.optotype_set];
  return set ? Object.keys(set.symbols) : [];
}

function cancelHold() {
  clearTimeout(holdTimer);
  holdTimer = 0;
}

function renderScorePanel() {
  const panel = find("score-panel");
  const stimulus = store.get("stimulus");
  const show = scoringNow();
  panel.hidden = !show;
  if (!show) {
    cancelHold();
    renderHold();
    return;
  }
  const key = `${stimulus.trial_id}:${stimulus.seq}`;
  if (scoreFor !== key) {
    scoreFor = key;
    scoreMarks = stimulus.optotypes.map(() => null);
    cancelHold();
    sending = false;
  }
  const next = scoreMarks.indexOf(null);
  find("score-letters").replaceChildren(...stimulus.optotypes.map((symbol, index) => {
    const markOf = scoreMarks[index];
    const said = !markOf ? "…" : markOf.via === "right" ? "right" : markOf.via === "wrong" ? "wrong"
      : markOf.response === NOT_SURE ? "not seen" : `said ${symbolLabel(markOf.response)}`;
    return el("div", { class: "letter", dataset: { scoreLetter: index, next: String(index === next) } },
      el("span", { class: "shown", "aria-hidden": "true" }, symbolLabel(symbol)),
      el("span", { class: "said", dataset: { said: index } }, said),
      el("button", {
        type: "button", "aria-pressed": String(markOf?.via === "right"), "aria-label": `${symbolLabel(symbol)} read right`,
        dataset: { scoreIndex: index, scoreValue: "true" }, onclick: () => mark(index, { response: symbol, via: "right" }),
      }, "✓"),
      el("button", {
        type: "button", "aria-pressed": String(markOf?.via === "wrong"), "aria-label": `${symbolLabel(symbol)} read wrong`,
        dataset: { scoreIndex: index, scoreValue: "false" }, onclick: () => mark(index, { response: WRONG, via: "wrong" }),
      }, "✗"),
    );
  }));
  const complete = scoreMarks.every(Boolean);
  find("score-submit").disabled = !complete || sending;
  find("score-undo").disabled = sending || !scoreMarks.some(Boolean);
  const symbols = setSymbols();
  const directions = symbols.length && !symbols.every((sym) => /^[A-Z]$/.test(sym));
  setText(find("score-keys"), `Keys: ${directions ? "the arrow keys for the direction" : "the letter the patient says"}` +
    " · Space: not seen · Backspace: undo · Enter: send now");
  renderHold();
}

function renderHold() {
  const text = sending ? "Sending…"
    : holdTimer ? `Sending in ${(SCORE_HOLD_MS / 1000).toFixed(1)} s. Backspace or Undo takes back the last mark.` : "";
  setText(find("score-hold"), text);
}

function mark(index, value) {
  if (sending) return;
  scoreMarks[index] = value;
  cancelHold();
  if (scoreMarks.every(Boolean)) holdTimer = setTimeout(sendScore, SCORE_HOLD_MS);
  renderScorePanel();
  // The buttons were rebuilt: keep keyboard focus on the one just pressed (not for typed marks).
  if (value.via !== "key") document.querySelector(`[data-score-index="${index}"][data-score-value="${value.via === "right"}"]`)?.focus();
}

/** The next symbol without a mark gets this one (typed). */
function markNext(response) {
  const index = scoreMarks.indexOf(null);
  if (index >= 0) mark(index, { response, via: "key" });
}

function undoMark() {
  if (sending) return;
  cancelHold();
  const last = scoreMarks.map(Boolean).lastIndexOf(true);
  if (last >= 0) scoreMarks[last] = null;
  renderScorePanel();
}

async function sendScore() {
  cancelHold();
  const stimulus = store.get("stimulus");
  if (sending || !stimulus || `${stimulus.trial_id}:${stimulus.seq}` !== scoreFor || !scoreMarks.every(Boolean)) return;
  sending = true;
  renderScorePanel();
  const ack = await control("score", {
    trial_id: stimulus.trial_id, seq: stimulus.seq, responses: scoreMarks.map((m) => m.response),
  });
  sending = false;
  renderScorePanel();
  return ack;
}

for (const button of findAll("score-all")) {
  button.addEventListener("click", () => {
    const stimulus = store.get("stimulus");
    if (!stimulus || sending) return;
    const right = button.dataset.scoreAll === "true";
    scoreMarks = stimulus.optotypes.map((symbol) => (right ? { response: symbol, via: "right" } : { response: WRONG, via: "wrong" }));
    cancelHold();
    holdTimer = setTimeout(sendScore, SCORE_HOLD_MS);
    renderScorePanel();
  });
}
find("score-submit").addEventListener("click", sendScore);
find("score-undo").addEventListener("click", undoMark);

// The keyboard scores while the panel is up, unless the focus is in a field (the note).
document.addEventListener("keydown", (event) => {
  if (!scoringNow() || event.defaultPrevented) return;
  const target = event.target;
  if (target instanceof Element && target.closest("input, textarea, select, [contenteditable]")) return;
  if (event.key === "Backspace") {
    event.preventDefault();
    undoMark();
    return;
  }
  if (event.key === "Enter") {
    if (target instanceof Element && target.closest("button, a, summary")) return; // the focused control's own Enter
    event.preventDefault();
    sendScore();
    return;
  }
  const symbol = symbolForKey(event, setSymbols());
  if (symbol === undefined) return;
  event.preventDefault();
  markNext(symbol);
});

function renderPresentChoices() {
  const select = find("present-size");
  const range = store.get("range");
  if (!range) return;
  const options = range.sizes.map((size) => el("option", { value: size.value }, size.text));
  const previous = select.value;
  select.replaceChildren(...options);
  if (previous) select.value = previous;
}

find("present-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  await control("present", { logmar: Number(find("present-size").value) });
});

// ---------------------------------------------------------------- server events

function applySnapshot(snapshot) {
  setText(find("cal", "guard"), distanceGuardText(snapshot.distance_guard));
  const trials = [];
  for (const eye of snapshot.eyes || []) trials.push(...(eye.trials || []));
  store.update({
    snapshot,
    phase: snapshot.phase,
    status: snapshot.status,
    pausedReason: snapshot.paused_reason || null,
    actions: snapshot.actions || [],
    devices: snapshot.devices || { display: false, pad: false },
    calibration: snapshot.calibration,
    range: snapshot.measurable_range,
    stimulus: snapshot.current_stimulus,
    trials,
    eyes: snapshot.eyes || [],
    estimate: snapshot.estimate,
    estimateEye: (snapshot.eyes || []).find((eye) => eye.status === "active")?.eye
      ?? [...(snapshot.eyes || [])].reverse().find((eye) => eye.status === "done")?.eye ?? null,
    helper: Boolean(snapshot.helper),
    events: snapshot.events || [],
    move: snapshot.move_closer || null,
    belowChart: snapshot.below_chart || null,
    earlierEvents: Math.max(0, (snapshot.events_total || 0) - (snapshot.events || []).length),
  });
  renderAll();
}

function renderAll() {
  renderBelowChart();
  renderHeader();
  renderDevices();
  renderCalibration();
  renderStimulusPreview();
  renderEstimate();
  renderAnswers();
  renderPlot();
  renderEvents();
  renderControls();
}

function setEyeStatus(eyeName, status, result) {
  store.update({
    eyes: store.get("eyes").map((eye) => (eye.eye === eyeName ? { ...eye, status, result: result ?? eye.result } : eye)),
  });
}

socket.on("connect", async () => {
  setText(find("connection"), "");
  find("connection").hidden = true;
  const ack = await request(socket, "watch", { session_id: sessionId });
  if (!ack.ok) return showError(ack.message);
  applySnapshot(ack.snapshot);
  call.watched(ack);
});
socket.on("disconnect", () => {
  find("connection").hidden = false;
  setText(find("connection"), "Connection to the server lost. Reconnecting…");
});
socket.on("connect_error", (error) => {
  if (!socket.active) showError(error.message);
});
socket.on("stimulus_shown", (stimulus) => {
  store.update({ stimulus });
  const eyes = store.get("eyes");
  if (eyes.some((eye) => eye.eye === stimulus.eye && eye.status === "pending")) setEyeStatus(stimulus.eye, "active");
  find("drawn-check").textContent = "";
  renderStimulusPreview();
  renderEstimate();
  renderControls();
});
socket.on("drawn", (drawn) => {
  const node = find("drawn-check");
  const words = drawn.within_tolerance ? `Drawn at its size (within ${drawn.tolerance_percent}%).`
    : `Drawn more than ${drawn.tolerance_percent}% off its size: the patient is asked to measure again.`;
  node.replaceChildren(words, " ", el("details", { class: "tech" }, el("summary", {}, "Detail"),
    el("code", {}, `${Number(drawn.drawn_css_px).toFixed(1)} CSS px drawn for ${Number(drawn.requested_css_px).toFixed(1)} requested`)));
});
socket.on("answer_scored", ({ trial, estimate }) => {
  const trials = store.get("trials").filter((known) => !(known.trial_id === trial.trial_id && known.seq === trial.seq));
  trials.push(trial);
  const stimulus = store.get("stimulus");
  const answered = stimulus && stimulus.trial_id === trial.trial_id;
  store.update({
    trials, estimate: estimate || store.get("estimate"), estimateEye: trial.eye, stimulus: answered ? null : stimulus,
  });
  renderAnswers();
  renderPlot();
  renderEstimate();
  renderStimulusPreview();
});
socket.on("estimate", ({ eye, estimate }) => {
  store.update({ estimate, estimateEye: eye });
  renderEstimate();
  renderPlot();
});
// The link panel's state, as the server names it (`link` of `status` and `device_status`).
function renderLink(link) {
  const state = find("invite-state");
  if (!link || !state) return;
  state.dataset.inviteState = link.state;
  setText(state, link.state);
  setText(find("invite-state-text"), link.state_text);
  const opened = find("invite-opened", "live");
  if (opened && link.opened) opened.hidden = false;
}

socket.on("device_status", ({ display_connected: display, pad_connected: pad, link }) => {
  store.update({ devices: { display, pad } });
  renderDevices();
  renderLink(link);
});
socket.on("page_event", (event) => {
  store.update({ events: [...store.get("events"), event] });
  renderEvents();
});
socket.on("calibration", ({ calibration, measurable_range: range, reason }) => {
  store.update({ calibration, range });
  if (!calibration && reason) {
    store.update({ events: [...store.get("events"), { kind: "calibration_invalidated", detail: { reason }, at: new Date().toISOString() }] });
    renderEvents();
  }
  renderCalibration();
  renderPlot();
});
socket.on("status", ({ status, phase, paused_reason: reason, actions, link, below_chart: belowChart }) => {
  store.update({ status, phase, pausedReason: reason || null, actions, belowChart: belowChart || null });
  renderLink(link);
  renderBelowChart();
  if (phase !== "testing") store.update({ stimulus: phase === "paused" ? store.get("stimulus") : null });
  renderHeader();
  renderControls();
  renderStimulusPreview();
});
socket.on("distance_guard", (guard) => {
  setText(find("cal", "guard"), distanceGuardText(guard));
  if (!guard.event) return;
  store.update({ events: [...store.get("events"), guard.event] });
  renderEvents();
});
socket.on("helper", ({ helper, event }) => {
  store.update({ helper: Boolean(helper), events: [...store.get("events"), event] });
  renderDevices();
  renderEvents();
});
socket.on("note", (note) => {
  store.update({ events: [...store.get("events"), { kind: "note", ...note }] });
  renderEvents();
});
// Low vision: where the patient is, where they are asked to go, and the distances to choose from
// (the server's `move_closer`; the words and distances are the server's).
function renderMove() {
  const move = store.get("move");
  const actions = store.get("actions");
  find("move-form").hidden = !move || !actions.includes("move_closer") || !move.choices.length && !move.asked_mm;
  if (!move) return;
  const text = move.asked_mm
    ? `The patient is asked to come closer, to ${move.asked_text} (now at ${move.distance_text}).`
    : move.moved ? `The patient moved closer: now at ${move.distance_text}.` : `The patient is at ${move.distance_text}.`;
  setText(find("move-text"), text);
  const select = find("move-distance");
  const options = move.choices.map((choice) => el("option", { value: String(choice.distance_mm) }, choice.text));
  select.replaceChildren(...options);
  if (move.asked_mm) select.value = String(move.asked_mm);
  find("move-decline").hidden = !move.asked_mm;
}
find("move-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  await control("move_closer", { distance_mm: Number(find("move-distance").value) });
});
find("move-decline").addEventListener("click", async (event) => {
  if (!confirmed(event.currentTarget)) return;
  await control("move_closer", { decline: true });
});
// The server says when an eye could not read the largest letter with no move closer left
// (`below_chart`): "Below the chart" opens by itself, once per eye, with that eye chosen.
let belowChartOpenedFor = null;
function renderBelowChart() {
  const below = store.get("belowChart");
  const note = find("category-note");
  note.hidden = !below;
  setText(note, below ? below.text : "");
  if (!below || belowChartOpenedFor === below.eye) return;
  belowChartOpenedFor = below.eye;
  const panel = find("category-panel");
  panel.open = true;
  find("category-eye").value = below.eye;
  // The controls column scrolls at 1366x768: bring the whole form into view, its Record button too.
  panel.scrollIntoView({ block: "nearest" });
}
find("category-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const code = find("category-code");
  const needsDistance = code.selectedOptions[0]?.dataset.needsDistance === "true";
  const metres = Number(find("category-distance").value.trim().replace(",", "."));
  if (needsDistance && !(metres > 0)) {
    find("category-distance").focus();
    return showError("Give the distance, in metres, at which the patient counted fingers or saw the hand move.");
  }
  const payload = { eye: find("category-eye").value, code: code.value };
  if (needsDistance) payload.distance_mm = Math.round(metres * 1000);
  await control("category", payload);
});
socket.on("move_closer", (move) => {
  store.update({ move });
  renderMove();
});
socket.on("category", ({ eye, result }) => {
  setEyeStatus(eye, "done", result);
  // The headline estimate of that eye becomes its category: the bound it replaces was no measurement.
  if (store.get("estimateEye") === eye || !store.get("estimateEye")) store.update({ estimate: result, estimateEye: eye });
  renderAll();
});
socket.on("eye_done", ({ eye, next_eye: nextEye, result }) => {
  setEyeStatus(eye, "done", result);
  // The next eye starts without an estimate; the last eye's result stays on screen.
  store.update({ stimulus: null, estimate: nextEye ? null : result || store.get("estimate"), estimateEye: nextEye ? null : eye });
  if (nextEye) setEyeStatus(nextEye, "active");
  renderEstimate();
  renderStimulusPreview();
});
socket.on("test_done", ({ results }) => {
  store.update({ stimulus: null });
  for (const result of results || []) setEyeStatus(result.eye, "done", result);
  renderAll();
});

loadGeometry().then((loaded) => {
  geometry = loaded;
  renderStimulusPreview();
}).catch(() => showError("The optotype shapes could not be loaded; reload the page."));

renderAll();
