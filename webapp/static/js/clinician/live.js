// The clinician's live view: watches one session over /clinician and renders the snapshot, then
// each event as it arrives. On every (re)connect it watches again and re-renders from the snapshot.
import { Store } from "../store.js";
import { find, findAll, el, svgEl, setText, readJson } from "../dom.js";
import { connect, request } from "../socket.js";
import { loadGeometry, renderStimulus } from "../optotypes.js";
import { symbolLabel } from "../answers.js";
import { ClinicianCall } from "../call.js";
import { distanceGuardText, distanceEventText } from "./distance.js";

const session = readJson("session-json") || {};
const sessionId = find("live-app").dataset.sessionId;

const store = new Store({
  snapshot: null,
  phase: null,
  status: session.status,
  pausedReason: null,
  actions: [], // the commands the server allows now (`status`)
  devices: { display: false, pad: false },
  calibration: null,
  range: null,
  stimulus: null,
  trials: [], // every trial of every eye, in order
  eyes: [],
  estimate: null,
  estimateEye: null, // which eye the running estimate is for
  events: [],
  earlierEvents: 0, // stored events older than the snapshot's (on the result page)
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

function renderHeader() {
  const config = session.config || {};
  setText(find("config-summary"), [
    config.procedure, config.optotype_set, config.setup, config.answer_mode === "clinician" ? "clinician scores" : "patient answers",
    (config.eyes || []).join(" then "),
  ].filter(Boolean).join(" · "));
  setText(find("status"), store.get("status") || "");
  const phase = store.get("phase");
  const reason = store.get("pausedReason");
  setText(find("phase"), phase ? `Patient's step: ${phase.replace("_", " ")}${reason ? ` (${reason})` : ""}` : "");
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
}

function renderCalibration() {
  const cal = store.get("calibration");
  const range = store.get("range");
  const set = (key, text) => setText(find("cal", key), text);
  if (!cal) {
    for (const key of ["scale", "dpr", "viewport", "distance"]) set(key, "—");
  } else {
    set("scale", `${Number(cal.css_px_per_mm).toFixed(3)} CSS px/mm (${cal.scale_method || "card"})`);
    set("dpr", String(cal.device_pixel_ratio));
    set("viewport", cal.viewport_css_px ? `${cal.viewport_css_px[0]} × ${cal.viewport_css_px[1]} CSS px` : "—");
    set("distance", `${cal.viewing_distance_text} (${(cal.distance_method || "").replace("_", " ")}${cal.mirrored ? ", mirrored" : ""})`);
  }
  set("range", range ? range.text : "—");
  renderPresentChoices();
}

function renderStimulusPreview() {
  const stimulus = store.get("stimulus");
  const preview = find("preview");
  if (!stimulus) {
    preview.replaceChildren();
    setText(find("stimulus-size"), "No letter shown.");
    renderScorePanel();
    return;
  }
  setText(find("stimulus-size"), `${stimulus.notation.text} · ${stimulus.optotypes.map(symbolLabel).join(" ")} · ` +
    `${Number(stimulus.height_css_px).toFixed(1)} CSS px tall on the patient's screen`);
  preview.dataset.logmar = stimulus.logmar;
  if (geometry) {
    // Scaled to fit the panel; shown as the patient sees it (through the mirror: the right way round).
    const count = stimulus.optotypes.length;
    // Row width in letter heights: letters and gaps, plus the crowding bars (about 1.2 each side).
    const rowLetters = count + (count - 1) * ((geometry.chart_letter_gap_strokes ?? 5) / 5) + (stimulus.crowding ? 2.6 : 0.2);
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
    setText(node, `${eyeName ? `${eyeName}: ` : ""}${estimate.notation.text}; 95% interval ${estimate.notation.ci95_text}` +
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
  const said = (trial.responses || []).map(symbolLabel).join(" ");
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
    return el("li", { class: WARNING_KINDS.has(event.kind) ? "warning" : "note", dataset: { eventKind: event.kind } },
      `${when} ${describeEvent(event)}`);
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

const WARNING_KINDS = new Set(["hidden", "fullscreen_exit", "resize", "zoom", "warning", "calibration_invalidated"]);

const EVENT_TEXT = {
  hidden: "The patient's page was hidden (another tab or app).",
  visible: "The patient's page is visible again.",
  fullscreen_exit: "The patient left full screen.",
  fullscreen_enter: "The patient went full screen.",
  resize: "The patient's window was resized.",
  zoom: "The patient's zoom or screen changed: calibration no longer valid.",
  consent: "The patient agreed to the test.",
  paused: "You paused the test.",
  resumed: "You resumed the test.",
  ended: "You ended the test.",
};

const REASON_TEXT = {
  drawn_size_off: "the letter drawn was more than 2% off the size asked for",
  device_pixel_ratio_changed: "devicePixelRatio changed",
  zoom_or_screen_changed: "zoom or screen changed",
  clinician_request: "you asked for it",
  new_link: "you re-issued the link (the new screen calibrates)",
  window_too_small: "the patient's window became too small for the stimulus",
};

function describeEvent(event) {
  const detail = event.detail || {};
  const texts = event.detail_text || {};  // the server's strings for the detail's distances and sizes
  const device = event.device === "pad" ? " (phone)" : "";
  const guard = distanceEventText(event);
  if (guard) return guard;
  const ratio = detail.device_pixel_ratio ? `, devicePixelRatio ${detail.device_pixel_ratio}` : "";
  switch (event.kind) {
    case "note":
      return `Note: ${event.text || ""}`;
    case "calibration":
      return `Calibrated: ${texts.viewing_distance_mm}, ${Number(detail.css_px_per_mm).toFixed(3)} CSS px/mm${ratio}.`;
    case "calibration_invalidated":
      return `Calibration no longer valid: ${REASON_TEXT[detail.reason] || detail.reason}. The patient is asked to measure again.`;
    case "present":
      return `You chose ${texts.logmar}.`;
    case "share_results":
      return detail.show ? "Results will be shown to the patient." : "Results will not be shown to the patient.";
    case "warning":
      if (detail.code === "distance_differs") {
        return `Warning: measured distance ${texts.viewing_distance_mm} differs from the set-up's ${texts.setup_mm}.`;
      }
      if (detail.code === "device_replaced") {
        return `Warning: the patient's ${event.device === "pad" ? "answer pad" : "test screen"} connected again from a new connection (another device or tab, or after a restart); the older one was closed.`;
      }
      if (detail.code === "events_dropped") {
        return `Warning: the patient's pages reported more than ${detail.limit} events; ${detail.dropped} more were not stored.`;
      }
      if (detail.code === "range_narrower_than_eye_test") {
        return "Warning: the new calibration cannot show every size this eye's test may ask for.";
      }
      return `Warning: ${detail.code || "see the result page"}.`;
    default:
      return `${(EVENT_TEXT[event.kind] || event.kind).replace(/\.$/, "")}${device}${ratio}.`;
  }
}

// ---------------------------------------------------------------- controls

for (const button of findAll("control")) {
  button.addEventListener("click", async () => {
    const event = button.dataset.control;
    if (event === "end" && !window.confirm("End the test now? The answers so far are kept.")) return;
    if (event === "next_eye" && !window.confirm("Finish this eye now with the estimate so far?")) return;
    await control(event);
  });
}

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
  // Manual procedure: always. Others: when the next size cannot be drawn and the test waits for one.
  const chooseSize = session.config?.procedure === "manual" || store.get("pausedReason") === "size_not_drawable";
  find("present-form").hidden = !chooseSize || !actions.includes("present");
}

// Clinician-scored mode: mark each symbol right or wrong, or the whole row, then submit.
let scoreMarks = [];
let scoreFor = null;
function renderScorePanel() {
  const panel = find("score-panel");
  const stimulus = store.get("stimulus");
  const show = session.config?.answer_mode === "clinician" && Boolean(stimulus) && store.get("actions").includes("score");
  panel.hidden = !show;
  if (!show) return;
  const key = `${stimulus.trial_id}:${stimulus.seq}`;
  if (scoreFor !== key) {
    scoreFor = key;
    scoreMarks = stimulus.optotypes.map(() => null);
  }
  find("score-letters").replaceChildren(...stimulus.optotypes.map((symbol, index) => el("div", { class: "letter" },
    el("strong", {}, symbolLabel(symbol)),
    el("button", {
      type: "button", "aria-pressed": String(scoreMarks[index] === true), "aria-label": `${symbolLabel(symbol)} read right`,
      dataset: { scoreIndex: index, scoreValue: "true" }, onclick: () => mark(index, true),
    }, "✓"),
    el("button", {
      type: "button", "aria-pressed": String(scoreMarks[index] === false), "aria-label": `${symbolLabel(symbol)} read wrong`,
      dataset: { scoreIndex: index, scoreValue: "false" }, onclick: () => mark(index, false),
    }, "✗"),
  )));
  find("score-submit").disabled = scoreMarks.some((value) => value === null);
}

function mark(index, value) {
  scoreMarks[index] = value;
  renderScorePanel();
  // The buttons were rebuilt: keep keyboard focus on the one just pressed.
  document.querySelector(`[data-score-index="${index}"][data-score-value="${value}"]`)?.focus();
}

for (const button of findAll("score-all")) {
  button.addEventListener("click", () => {
    scoreMarks = scoreMarks.map(() => button.dataset.scoreAll === "true");
    renderScorePanel();
  });
}

find("score-submit").addEventListener("click", async () => {
  const stimulus = store.get("stimulus");
  if (!stimulus || scoreMarks.some((value) => value === null)) return;
  await control("score", { trial_id: stimulus.trial_id, seq: stimulus.seq, correct: scoreMarks.slice() });
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
    events: snapshot.events || [],
    earlierEvents: Math.max(0, (snapshot.events_total || 0) - (snapshot.events || []).length),
  });
  renderAll();
}

function renderAll() {
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
  setText(find("drawn-check"), `Drawn ${Number(drawn.drawn_css_px).toFixed(1)} CSS px for ${Number(drawn.requested_css_px).toFixed(1)} requested: ` +
    `${drawn.within_tolerance ? "within" : "OUTSIDE"} the ${drawn.tolerance_percent}% tolerance.`);
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
socket.on("device_status", ({ display_connected: display, pad_connected: pad }) => {
  store.update({ devices: { display, pad } });
  renderDevices();
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
socket.on("status", ({ status, phase, paused_reason: reason, actions }) => {
  store.update({ status, phase, pausedReason: reason || null, actions });
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
socket.on("note", (note) => {
  store.update({ events: [...store.get("events"), { kind: "note", ...note }] });
  renderEvents();
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
