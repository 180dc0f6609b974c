// The patient's display: welcome, screen scale, distance, pairing the pad, getting ready, the test,
// done. The server owns the phase (`state`); this page keeps only which sub-step of a phase is on
// screen, so a reconnect (which re-sends `state`) puts the patient back where they were.
import { Store } from "../store.js";
import { t, language } from "../i18n.js";
import { find, findAll, el, setText, importSvg } from "../dom.js";
import { connect, request } from "../socket.js";
import { loadGeometry, renderStimulus, measureInk, optotypeSvg } from "../optotypes.js";
import { AnswerCollector, answerButtons, symbolForKey, keyboardHelp, symbolLabel } from "../answers.js";
import { CardSizer } from "./card.js";
import { BlindSpotSweep, SWEEPS } from "./blind-spot.js";
import { watchPageEvents } from "./page-events.js";
import { DeviceCall } from "../call.js";
import { markMessage, fitText, PHONE_LOST, PHONE_BACK } from "./mark.js";
import { Voice } from "./voice.js";
import {
  forgetCalibration, glassesText, onPhone, phoneAloneText, rememberCalibration, restorableCalibration, touchOnly,
  undoZoomKeys,
} from "./setup-words.js";
import { DistanceGuard, distancePauseMessage } from "./distance-guard.js";

const STEPS = ["welcome", "scale", "distance", "answers", "prepare", "test", "done"];
// Which local steps may be on screen in each server phase (the first is the default).
const STEPS_IN_PHASE = {
  welcome: ["welcome"],
  calibrate: ["scale", "distance"],
  ready: ["answers", "prepare", "distance", "scale"],
  testing: ["test"],
  paused: ["test", "scale", "distance", "answers", "prepare"],
  between_eyes: ["test", "scale", "distance"],
  done: ["done"],
};
const SETUP_METHOD = { "2m": "tape", "3m": "tape", "4m": "tape", mirror: "mirror", near_40cm: "blind_spot" };
const EYE_TO_COVER = { right: "left", left: "right" };

// No token in this page: opening the invite link gave this browser an HttpOnly cookie and brought it
// here (/test), which the socket's handshake sends; a reload comes back to the same test.

const store = new Store({
  server: null, // the last `state`
  step: "welcome", // the step on screen (within what the server's phase allows)
  stimulus: null,
  rangeShown: false,
  recalibrateReason: null,
  recalibrateCode: null, // the server's reason, when a zoom or window change voided the measurement
  refused: false, // the server refused this link (expired, withdrawn)
  padCode: null, // {code_text, expiresAt}: the short code for pairing the phone at /pad
  phoneLostDismissed: false, // the patient chose the keyboard while the phone is away
  phoneBackUntil: 0, // Date.now() until which "your phone is connected again" is shown
  practice: null, // the server's practice letter {practice_id, symbol, height_css_px, ...}
  practiceResult: null,
  distanceOverride: null, // its text ("2 m")
  distanceOverrideMm: null, // the patient took the distance the server offered instead of the set-up's
  distanceCheck: false, // the clinician asked for the distance alone to be measured again (scale kept)
  moveCloser: null, // low vision: the server asks the patient to come closer {distance_mm, distance_text, text}
});
const voice = new Voice();
voice.bind(find("voice-speech"), find("voice-sound"));
const collector = new AnswerCollector();
let geometry = null;

const socket = connect("/patient", { device: "display" });
new DeviceCall(socket, "display"); // the video call with the clinician, when they start one
const distanceGuard = new DistanceGuard(socket); // the webcam distance check, when the patient allows it

// ---------------------------------------------------------------- messages

function showError(message) {
  const node = find("error");
  node.hidden = !message;
  setText(node, message || "");
}

function showConnection(message) {
  const node = find("connection");
  node.hidden = !message;
  setText(node, message || "");
}

// ---------------------------------------------------------------- steps

function phase() {
  return store.get("server")?.phase || "welcome";
}

function resolveStep(wanted) {
  const allowed = STEPS_IN_PHASE[phase()] || ["welcome"];
  return allowed.includes(wanted) ? wanted : allowed[0];
}

function goTo(step) {
  store.update({ step: resolveStep(step) });
}

function renderStep() {
  if (store.get("refused")) {
    // The link cannot be used: only the message saying what to do stays on screen.
    for (const section of findAll("step")) section.hidden = true;
    find("progress").hidden = true;
    return;
  }
  const step = resolveStep(store.get("step"));
  const current = STEPS.indexOf(step);
  for (const section of findAll("step")) {
    const shown = section.dataset.step === step;
    if (section.hidden === shown) {
      section.hidden = !shown;
      if (shown) {
        // Move focus to the new step's heading so keyboard and screen-reader users start there.
        const heading = section.querySelector("h2[tabindex]");
        if (heading) heading.focus();
        else if (step === "test") section.focus?.();
      }
    }
  }
  for (const item of findAll("progress-step")) {
    const index = STEPS.indexOf(item.dataset.progressStep);
    if (index === current) item.setAttribute("aria-current", "step");
    else item.removeAttribute("aria-current");
    item.classList.toggle("done", index < current);
  }
  if (step === "test") renderTestOverlay();
}

// ---------------------------------------------------------------- 1. welcome

const consentBox = find("consent-box");
const consentButton = find("action", "consent");
consentBox.addEventListener("change", () => {
  consentButton.disabled = !consentBox.checked;
  // The disabled Start says why it is disabled; once ticked, the hint goes.
  find("consent-hint").hidden = consentBox.checked;
});

function renderWelcome() {
  const server = store.get("server");
  if (!server) return;
  const contact = server.contact_line || "";
  find("contact").hidden = !contact;
  setText(find("contact-line"), contact);
  find("done-contact").hidden = !contact;
  setText(find("done-contact-line"), contact);
  setText(find("need-space"), server.required_distance_long_text || "");
  setText(find("need-glasses"), glassesText(server));
  const phoneNeeded = server.answer_mode !== "clinician" && server.setup !== "near_40cm" && !onPhone();
  find("need", "phone").hidden = !phoneNeeded;
  const alone = phoneAloneText(server);
  find("phone-alone").hidden = !alone.text;
  setText(find("phone-alone"), alone.text);
  find("phone-alone").classList.toggle("notice", alone.refused);
  // A set-up a phone alone cannot serve is not offered: no Start, only what to do instead.
  find("welcome-body").hidden = alone.refused;
}
// The patient's language: the server stores it, then this page and the phone load again in it.
find("language-choice").addEventListener("change", async (event) => {
  const ack = await request(socket, "language", { language: event.target.value });
  if (!ack.ok) return showError(ack.message);
  window.location.reload();
});

consentButton.addEventListener("click", async () => {
  const ack = await request(socket, "consent", {});
  if (!ack.ok) return showError(ack.message);
  showError(null);
  if (ack.state) applyState(ack.state);
  goTo("scale");
});

// ---------------------------------------------------------------- 2. screen scale

const card = new CardSizer({
  card: find("card"),
  slider: find("card-slider"),
  readout: find("card-readout"),
  stepButtons: findAll("card-step"),
  turnButton: find("action", "card-turn"),
});
find("action", "scale-done").addEventListener("click", () => {
  store.update({ recalibrateReason: null, recalibrateCode: null, rangeShown: false });
  goTo("distance");
});

setText(find("zoom-keys"), undoZoomKeys());
find("zoom-note").hidden = onPhone(); // a phone has no zoom keys; a pinch is undone by pinching back
for (const node of findAll("keyboard-only")) node.hidden = onPhone();

function renderRecalibrateReason() {
  const node = find("recalibrate-reason");
  const reason = store.get("recalibrateReason");
  node.hidden = !reason;
  setText(node, reason ? t("Please measure your screen again: {reason}", { reason }) : "");
}

// After a zoom voided the measurement, undoing it (same zoom, same or larger window) brings the
// stored calibration back without measuring again.
// Only a zoom or a window change is undone this way: a measurement the clinician asked for, or one
// whose letters came out the wrong size, is measured again.
const RESTORABLE = ["device_pixel_ratio_changed", "zoom_or_screen_changed", "window_too_small"];
let restoreTimer = 0;
let restoring = false;
const restoreSoon = () => {
  clearTimeout(restoreTimer);
  restoreTimer = setTimeout(restoreAfterZoom, 300);
};
window.addEventListener("resize", restoreSoon);
window.visualViewport?.addEventListener("resize", restoreSoon);
// A zoom does not always fire `resize` (the window keeps its size in CSS px only when it does not):
// a slow check backs it up while a zoom has voided the measurement.
setInterval(() => { if (RESTORABLE.includes(store.get("recalibrateCode"))) restoreAfterZoom(); }, 1000);

async function restoreAfterZoom() {
  if (restoring || !RESTORABLE.includes(store.get("recalibrateCode"))) return;
  if (!socket.connected) return;
  if (!["calibrate", "ready", "paused", "between_eyes"].includes(phase())) return;
  const payload = restorableCalibration();
  if (!payload) return;
  restoring = true;
  const ack = await request(socket, "calibration", payload).finally(() => { restoring = false; });
  if (!ack.ok) return;
  rememberCalibration(payload);
  showError(null);
  store.update({ recalibrateReason: null, recalibrateCode: null });
  renderRange(ack);
  store.update({ rangeShown: true });
  goTo("distance");
  setText(find("range-restored"), t("The page is back to its normal size: your screen measurement is restored."));
  find("range-title").focus();
}

// ---------------------------------------------------------------- 3. distance

const sweep = new BlindSpotSweep({ area: find("blind-spot"), fixation: find("fixation"), dot: find("dot") });
const sweepStart = find("action", "sweep-start");
const sweepVanished = find("action", "sweep-vanished");
setText(find("sweeps-total"), String(SWEEPS));

/** The panel of the distance step: the set-up's method; a phone held in the hand (near test)
 *  measures 40 cm with a ruler, since the moving dot needs a screen wider than a phone's. */
function distancePanel() {
  const method = SETUP_METHOD[store.get("server")?.setup] || "tape";
  return method === "blind_spot" && onPhone() ? "ruler" : method;
}

function distanceMethod() {
  const panel = distancePanel();
  if (panel === "ruler" || (panel === "blind_spot" && find("ruler-instead").checked)) return "tape";
  return panel;
}

function requiredDistanceMm() {
  const server = store.get("server");
  return store.get("distanceOverrideMm") || server?.required_distance_mm || (server?.setup === "near_40cm" ? 400 : 3000);
}

function renderDistance() {
  find("move-closer").hidden = !store.get("moveCloser");
  const method = distancePanel();
  for (const panel of findAll("method-panel")) panel.hidden = panel.dataset.methodPanel !== method;
  const server = store.get("server");
  const override = store.get("distanceOverride");
  setText(find("tape-text"), override || server?.required_distance_long_text || "");
  setText(find("tape-text-short"), override || server?.required_distance_text || "");
  setText(find("sweeps-done"), String(sweep.offsetsMm.length));
  sweepStart.disabled = sweep.running || sweep.complete;
  sweepVanished.disabled = !sweep.running;
  const rangeShown = store.get("rangeShown");
  find("distance-check").hidden = !store.get("distanceCheck") || rangeShown;
  // A check during the test: the patient stays where they are (the notice says so), so the words on
  // where to sit give way to it and the step still fits a 1280 x 720 window.
  for (const node of findAll("where-to-sit")) node.hidden = store.get("distanceCheck");
  find("distance-form").hidden = rangeShown;
  find("range-report").hidden = !rangeShown;
}

sweep.addEventListener("change", () => {
  renderDistance();
  setText(find("sweep-status"), sweep.complete
    ? t("All done. You can uncover your eye and save the distance.")
    : sweep.running ? t("Watch the square. Press the space bar when the red dot disappears.") : "");
});
sweep.addEventListener("missed", () => {
  setText(find("sweep-status"), t("The dot reached the edge. Sit a little closer, keep looking at the square, and " +
    "try again; or measure 40 cm with a ruler and tick the box below."));
  renderDistance();
});
sweepStart.addEventListener("click", () => {
  if (sweep.offsetsMm.length === 0) sweep.cssPxPerMm = card.cssPxPerMm;
  sweep.start();
  sweepVanished.disabled = false;
});
sweepVanished.addEventListener("click", () => sweep.vanished());
find("ruler-instead").addEventListener("change", renderDistance);

find("distance-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const method = distanceMethod();
  let distance;
  if (method === "tape") {
    const confirm = distancePanel() === "ruler" ? find("ruler-confirm") : find("tape-confirm");
    if (store.get("server")?.setup !== "near_40cm" && !confirm.checked) {
      return showError(t("Please measure the distance, then tick the box to say you have."));
    }
    if (distancePanel() === "ruler" && !confirm.checked) {
      return showError(t("Please measure 40 cm with a ruler, then tick the box to say you have."));
    }
    distance = { method: "tape", distance_mm: requiredDistanceMm() };
  } else if (method === "mirror") {
    // Metres, as a tape shows them; a comma works as the decimal mark too.
    const metres = Number(find("mirror-distance").value.trim().replace(",", "."));
    if (!find("mirror-distance").value.trim() || !Number.isFinite(metres) || metres <= 0) {
      find("mirror-distance").focus();
      return showError(t("Please measure the distance from your eyes to the mirror, and type it in metres (for example 1.5)."));
    }
    distance = { method: "mirror", patient_to_mirror_mm: Math.round(metres * 1000) };
  } else {
    if (!sweep.complete) return showError(t("Please do the moving-dot check {count} times first (press “Start the dot”).", { count: SWEEPS }));
    distance = { method: "blind_spot", offsets_mm: sweep.offsetsMm.slice() };
  }
  const payload = {
    css_px_per_mm: Math.round(card.cssPxPerMm * 10000) / 10000,
    device_pixel_ratio: window.devicePixelRatio,
    viewport_css_px: [Math.round(window.innerWidth), Math.round(window.innerHeight)],
    scale_method: "card",
    distance,
    user_agent: navigator.userAgent.slice(0, 512),
  };
  const ack = await request(socket, "calibration", payload);
  if (!ack.ok) {
    // Sweeps the server refused (they disagree, or put the patient too close) are done again:
    // clear them so that "Start the dot" works, never a dead end.
    if (method === "blind_spot") sweep.reset(card.cssPxPerMm);
    return showError(method === "blind_spot" ? `${ack.message} ${t("The moving-dot check starts again.")}` : ack.message);
  }
  rememberCalibration(payload);
  showError(null);
  store.update({ distanceCheck: false });
  setText(find("range-restored"), "");
  renderRange(ack);
  store.update({ rangeShown: true });
  find("range-title").focus();
});

function renderRange(ack) {
  const range = ack.measurable_range;
  const text = find("range-text");
  // For tests and the clinician's tools only; the patient reads the server's plain words.
  text.dataset.minLogmar = range.min_logmar;
  text.dataset.maxLogmar = range.max_logmar;
  text.dataset.fits = String(ack.screen.fits);
  setText(text, ack.screen.text);
  const offer = find("action", "take-offer");
  offer.hidden = !ack.screen.offer_distance_mm;
  offer.dataset.distanceMm = String(ack.screen.offer_distance_mm || "");
  offer.dataset.distanceText = ack.screen.offer_text || "";
  setText(offer, ack.screen.offer_text ? t("I will stand at {distance} instead", { distance: ack.screen.offer_text }) : "");
}

find("action", "take-offer").addEventListener("click", (event) => {
  const button = event.currentTarget;
  store.update({
    distanceOverrideMm: Number(button.dataset.distanceMm), distanceOverride: button.dataset.distanceText, rangeShown: false,
  });
  find("tape-confirm").checked = false;
  goTo("distance");
  renderDistance();
  find("distance-title").focus();
});

find("action", "redo-scale").addEventListener("click", () => { store.update({ rangeShown: false }); goTo("scale"); });
find("action", "redo-distance").addEventListener("click", () => {
  sweep.reset(card.cssPxPerMm);
  store.update({ rangeShown: false });
  goTo("distance");
});
find("action", "distance-continue").addEventListener("click", () => goTo("answers"));

// ---------------------------------------------------------------- 4. how to answer

let qrFor = null;
function renderAnswers() {
  const server = store.get("server");
  if (!server) return;
  const patientMode = server.answer_mode !== "clinician";
  // A phone alone (near test) answers on its own screen: no second phone to pair.
  const alone = patientMode && onPhone() && server.setup === "near_40cm";
  for (const node of findAll("answer-mode")) {
    const mode = alone ? "alone" : patientMode ? "patient" : "clinician";
    node.hidden = node.dataset.answerMode !== mode;
  }
  if (server.pad_url && qrFor !== server.pad_url) {
    qrFor = server.pad_url;
    for (const qr of findAll("pad-qr")) {
      qr.dataset.padUrl = server.pad_url;
      try {
        if (server.pad_qr_svg) qr.replaceChildren(importSvg(server.pad_qr_svg));
      } catch {
        qr.replaceChildren();
      }
    }
  }
  // The address is text to type on the phone, never a link: a click must not take this page away.
  for (const node of findAll("pad-address")) setText(node, server.pad_short_url || "");
  const code = store.get("padCode");
  for (const node of findAll("pad-code")) setText(node, code ? code.code_text : "…");
  askForPadCode();
  const pill = find("pad-status");
  pill.dataset.on = String(Boolean(server.pad_connected));
  setText(pill, server.pad_connected ? t("connected") : t("not connected"));
  if (geometry) setText(find("keyboard-help"), keyboardHelp(setSymbols()));
}
find("action", "answers-done").addEventListener("click", () => goTo("prepare"));

// The short code for pairing the phone at /pad: asked for while a phone could be paired (the pairing
// step, or the phone lost during the test), again when it expires; the server voids it once the
// phone is connected.
let codeRequest = null;
let codeTimer = null;
function needsPadCode() {
  const server = store.get("server");
  if (!server || !socket.connected || server.pad_connected || server.answer_mode === "clinician") return false;
  if (["welcome", "done"].includes(server.phase)) return false;
  return resolveStep(store.get("step")) === "answers" || phoneLost();
}
function askForPadCode() {
  const code = store.get("padCode");
  if (codeRequest || !needsPadCode() || (code && code.expiresAt > Date.now())) return;
  codeRequest = request(socket, "pad_code", {}).then((ack) => {
    codeRequest = null;
    if (!ack.ok) return;
    const expiresAt = Date.now() + ack.expires_in_s * 1000;
    store.update({ padCode: { code_text: ack.code_text, expiresAt } });
    clearTimeout(codeTimer);
    codeTimer = setTimeout(() => { store.update({ padCode: null }); renderAnswers(); }, ack.expires_in_s * 1000);
    renderAnswers();
  });
}

// ---------------------------------------------------------------- 5. get ready

function setSymbols() {
  const name = store.get("server")?.optotype_set;
  return Object.keys(geometry?.sets?.[name]?.symbols || {});
}

const fullscreenButton = find("action", "fullscreen");
fullscreenButton.addEventListener("click", () => enterFullscreen());

async function enterFullscreen() {
  const note = find("fullscreen-note");
  if (!document.fullscreenEnabled) {
    setText(note, t("This device cannot show pages full screen; that is fine."));
    return;
  }
  if (document.fullscreenElement) return;
  try {
    await document.documentElement.requestFullscreen({ navigationUI: "hide" });
    setText(note, t("Full screen is on. Press Esc to leave it."));
  } catch {
    setText(note, t("Full screen was not allowed; that is fine, maximise the window instead."));
  }
}

let wakeLock = null;
async function keepAwake() {
  if (!("wakeLock" in navigator) || wakeLock) return;
  try {
    wakeLock = await navigator.wakeLock.request("screen");
    wakeLock.addEventListener("release", () => { wakeLock = null; });
    setText(find("wake-note"), t("The screen will stay on during the test."));
  } catch {
    setText(find("wake-note"), t("Touch the screen now and then if it starts to dim."));
  }
}
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible" && ["testing", "ready", "between_eyes"].includes(phase())) keepAwake();
});

function renderPrepare() {
  const server = store.get("server");
  if (!server) return;
  const block = find("mark-box", "prepare");
  const atMark = server.answer_mode !== "clinician" && (server.pad_connected || server.pad_paired);
  const message = markMessage(server, "display");
  block.hidden = !atMark || !message || resolveStep(store.get("step")) !== "prepare";
  block.dataset.mirrored = String(Boolean(server.mirrored));
  setText(find("mark-title", undefined, block), message?.title || "");
  setText(find("mark-hint", undefined, block), message?.hint || "");
  if (!block.hidden) {
    fitText(block, server.mark_text_css_px || window.innerHeight);
    voice.say(`${message.title} ${message.hint}`);
  }
  const eye = server.eye || server.eyes?.[0] || "right";
  const where = server.calibration?.position_text
    || t("{distance} from the screen", { distance: server.required_distance_text || "" });
  setText(find("position-lead"), server.setup === "near_40cm" ? t("Keep your eyes") : t("Go to your mark,"));
  setText(find("distance-text"), where);
  const coverLine = find("cover-line");
  coverLine.dataset.coverEye = EYE_TO_COVER[eye] || "neither";
  setText(coverLine, eye === "both" ? t("Keep both eyes open: we test them together.")
    : eye === "left" ? t("Cover your right eye with your palm (do not press on it). You are testing your left eye.")
      : t("Cover your left eye with your palm (do not press on it). You are testing your right eye."));
  if (!document.fullscreenEnabled) setText(find("fullscreen-note"), t("This device cannot show pages full screen; that is fine."));
}

// The practice letter is the server's (`practice`): the phone or this page asks for one, this page
// draws it at the size the server gives, either answers it, both hear whether it was right.
let practiceSymbol = null; // the letter on screen, while it waits for an answer
let practiceAsked = false;
// A short or narrow screen (a phone, a small laptop window) starts with the practice closed: the step fits.
find("practice").open = window.innerHeight >= 700 && window.innerWidth >= 600;

function startPractice() {
  const server = store.get("server");
  if (practiceAsked || store.get("practice") || !server?.actions?.includes("practice")) return;
  practiceAsked = true;
  request(socket, "practice", {}).then((ack) => { if (!ack.ok) showError(ack.message); });
}

function renderPractice() {
  const practice = store.get("practice");
  const host = find("practice-host");
  const keys = find("practice-keys");
  if (!practice || !geometry) {
    practiceSymbol = null;
    host.replaceChildren();
    keys.replaceChildren();
    setText(find("practice-feedback"), "");
    return;
  }
  const key = `practice-${practice.practice_id}`;
  if (host.dataset.practice !== key) {
    host.dataset.practice = key;
    const heightCssPx = practice.height_css_px || Math.round(Math.min(160, window.innerHeight * 0.25));
    const svg = optotypeSvg(geometry, practice.optotype_set, practice.symbol, heightCssPx);
    if (practice.mirrored) svg.style.transform = "scaleX(-1)";
    host.replaceChildren(svg);
    const symbols = setSymbols();
    keys.replaceChildren(...answerButtons(symbols, answerPractice));
    keys.classList.toggle("directions", symbols.every((s) => s !== s.toUpperCase()));
  }
  const result = store.get("practiceResult");
  practiceSymbol = result ? null : practice.symbol;
  const padConnected = Boolean(store.get("server")?.pad_connected);
  keys.hidden = Boolean(result) || padConnected;
  let feedback = padConnected ? t("Which one is it? Answer on your phone.")
    : onPhone() ? t("Which one is it? Tap its button.") : t("Which one is it? Press its button, or its key.");
  if (result?.words) feedback = result.words.title; // a child's practice round: the server's words
  else if (result) {
    feedback = result.correct
      ? t("Right! That is how you answer.")
      : t("It was {symbol}. In the test, guess if you are not sure.", { symbol: symbolLabel(result.symbol) });
  }
  setText(find("practice-feedback"), feedback);
}

function answerPractice(symbol) {
  const practice = store.get("practice");
  if (!practice || !practiceSymbol) return;
  practiceSymbol = null;
  request(socket, "practice_answer", { practice_id: practice.practice_id, response: symbol }).then((ack) => {
    if (!ack.ok && ack.error !== "stale_trial") showError(ack.message);
  });
}
find("action", "practice").addEventListener("click", () => {
  request(socket, "practice", {}).then((ack) => { if (!ack.ok) showError(ack.message); });
});

find("action", "ready").addEventListener("click", () => sendReady());

async function sendReady() {
  await enterFullscreen();
  keepAwake();
  const ack = await request(socket, "ready", {});
  if (!ack.ok) {
    if (ack.error === "recalibration_needed") goTo("scale");
    return showError(ack.message);
  }
  showError(null);
  store.update({ step: "test" });
}

// ---------------------------------------------------------------- 6. the test

const stimulusHost = find("stimulus-host");

let shownKey = null;
async function showStimulus(stimulus) {
  // `stimulus` and a `state` carrying the same trial can both arrive: draw and report it once.
  const key = `${stimulus.trial_id}:${stimulus.seq}`;
  if (key === shownKey) return;
  shownKey = key;
  if (!geometry) geometry = await loadGeometry();
  const svgs = renderStimulus(stimulusHost, geometry, stimulus);
  // The display answers from its own stimulus (answer_request goes to the pad only).
  if (store.get("server")?.answer_mode !== "clinician") {
    collector.start({
      trial_id: stimulus.trial_id, seq: stimulus.seq, count: stimulus.optotypes.length, symbols: setSymbols(),
    });
  }
  // Measure after layout: what the patient sees is what we report.
  await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  if (stimulusHost.closest("[hidden]")) return; // not on screen: nothing to measure or report
  // The ink on screen, in device px; the server compares it with the size it asked for.
  const ink = measureInk(svgs).map((box) => box.map((px) => Math.round(px * 1000) / 1000));
  stimulusHost.dataset.drawnHeight = String(Math.max(...ink.map(([, height]) => height)));
  stimulusHost.dataset.trialId = stimulus.trial_id;
  stimulusHost.dataset.seq = String(stimulus.seq);
  const ack = await request(socket, "drawn", {
    trial_id: stimulus.trial_id,
    seq: stimulus.seq,
    ink_device_px: ink,
    device_pixel_ratio: window.devicePixelRatio,
    visual_viewport_scale: window.visualViewport?.scale ?? 1,
  });
  if (!ack.ok && ack.error !== "stale_trial") showError(ack.message);
}

function clearStimulus() {
  shownKey = null;
  stimulusHost.replaceChildren();
  delete stimulusHost.dataset.trialId;
  delete stimulusHost.dataset.seq;
  delete stimulusHost.dataset.drawnHeight;
}

function renderTestKeys() {
  const server = store.get("server");
  const keys = find("test-keys");
  const show = server?.answer_mode !== "clinician" && collector.active && !server?.pad_connected;
  keys.hidden = !show;
  if (show && !keys.childElementCount) {
    keys.replaceChildren(...answerButtons(setSymbols(), (symbol) => collector.add(symbol), { compact: true }));
    // Touch only: no Backspace key, so a row of answers is corrected with this button.
    if (touchOnly()) {
      keys.append(el("button", { type: "button", class: "undo", dataset: { action: "undo-answer" },
        onclick: () => collector.undo() }, t("Undo last answer")));
    }
  }
  const undo = keys.querySelector('[data-action="undo-answer"]');
  if (undo) undo.hidden = !collector.responses.length;
}

function renderEcho() {
  const echo = find("answer-echo");
  const request = collector.request;
  if (!request || !collector.active || (request.count || 1) < 2) return setText(echo, "");
  const typed = collector.responses.map(symbolLabel);
  const rest = Array((request.count || 1) - typed.length).fill("_");
  const answers = [...typed, ...rest].join(" ");
  setText(echo, touchOnly()
    ? t("Your answers: {answers} (tap “Undo last answer” to correct)", { answers })
    : t("Your answers: {answers} (Backspace to correct)", { answers }));
}

collector.addEventListener("change", () => { renderTestKeys(); renderEcho(); });
collector.addEventListener("complete", async (event) => {
  clearStimulus();
  const ack = await request(socket, "answer", event.detail);
  if (!ack.ok && ack.error !== "stale_trial") showError(ack.message);
});

function phoneLost() {
  const server = store.get("server");
  return Boolean(server && server.answer_mode !== "clinician" && server.pad_paired && !server.pad_connected
    && ["testing", "between_eyes", "paused"].includes(server.phase) && !store.get("phoneLostDismissed"));
}

/** The message to the patient at the mark on the test screen, or null (the letters are up). */
function testScreenMessage() {
  const server = store.get("server");
  if (phoneLost()) return PHONE_LOST;
  if (store.get("phoneBackUntil") > Date.now()) return PHONE_BACK;
  if (server.phase === "testing") {
    return store.get("stimulus") ? null : { key: "wait", title: t("Please wait for the next letter…"), hint: "" };
  }
  if (server.phase === "paused" && server.paused_reason === "distance") {
    return { key: "paused", title: t("Test paused"), hint: distancePauseMessage(server) };
  }
  return markMessage(server, "display");
}

function renderTestOverlay() {
  const server = store.get("server");
  if (!server) return;
  const box = find("test-message");
  const next = find("action", "continue");
  const eye = server.eye;
  // Mirror set-up: the patient reads this screen in a mirror, so its words are reversed too.
  find("step", "test").dataset.mirrored = String(Boolean(server.mirrored));
  setText(find("test-eye-label"), eye === "both" ? t("Both eyes open")
    : eye === "left" ? t("Testing your left eye — keep your right eye covered")
      : eye ? t("Testing your right eye — keep your left eye covered") : "");
  setText(find("test-progress"), server.eyes?.length > 1
    ? t("Eye {number} of {count}", { number: Math.min(server.eye_index + 1, server.eyes.length), count: server.eyes.length })
    : "");
  const message = testScreenMessage();
  // Whether the patient may go on (`ready`) is the server's to say (`actions`), not this page's.
  const button = (server.phase === "paused" || server.phase === "between_eyes")
    && Boolean(server.actions?.includes("ready")) && message?.key !== "phone-lost";
  next.textContent = server.phase === "between_eyes" ? t("I have switched eyes — continue") : t("Continue");
  box.hidden = !message;
  box.dataset.message = message?.key || "";
  find("reconnect").hidden = message?.key !== "phone-lost";
  next.hidden = !button;
  setText(find("test-message-text"), message?.title || "");
  setText(find("test-message-hint"), message?.hint || "");
  if (message) {
    fitText(find("mark-box", "test"), server.mark_text_css_px || window.innerHeight);
    voice.say(`${message.title} ${message.hint}`);
  }
}
find("action", "continue").addEventListener("click", () => sendReady());

// ---------------------------------------------------------------- keyboard

document.addEventListener("keydown", (event) => {
  const step = resolveStep(store.get("step"));
  if (step === "scale" && !event.target.closest?.("input, select, textarea, [data-card]")) {
    card.onKey(event); // the arrow keys size the card from the moment the step opens
    return;
  }
  if (step === "distance" && sweep.running && event.key === " ") {
    event.preventDefault();
    sweep.vanished();
    return;
  }
  // Enter goes on where the phone's Start / Continue would (for a patient without a phone); a
  // focused button or field keeps its own Enter.
  if (event.key === "Enter" && !event.target.closest?.("button, a, input, select, textarea")
      && ["prepare", "test"].includes(step) && store.get("server")?.actions?.includes("ready")) {
    event.preventDefault();
    sendReady();
    return;
  }
  if (!geometry) return;
  const symbols = setSymbols();
  if (step === "prepare" && practiceSymbol) {
    // Typing fields keep their keys; a focused button keeps Space and Enter (they press it).
    if (event.target.closest?.("input, select, textarea")) return;
    if (event.target.closest?.("button, a") && (event.key === " " || event.key === "Enter")) return;
    const symbol = symbolForKey(event, symbols);
    if (symbol !== undefined) { event.preventDefault(); answerPractice(symbol); }
    return;
  }
  if (step !== "test" || !collector.active || store.get("server")?.answer_mode === "clinician") return;
  if (phoneLost() && symbolForKey(event, symbols) !== undefined) {
    store.update({ phoneLostDismissed: true }); // answering with the keyboard instead of the phone
    renderTestOverlay();
  }
  if (event.key === "Backspace") { event.preventDefault(); collector.undo(); return; }
  const symbol = symbolForKey(event, symbols);
  if (symbol !== undefined) {
    event.preventDefault();
    collector.add(symbol);
  }
});

// ---------------------------------------------------------------- 7. done

function renderDone() {
  const server = store.get("server");
  if (resolveStep(store.get("step")) === "done" && server) {
    fitText(find("done-title"), server.mark_text_css_px || window.innerHeight);
    voice.say(markMessage(server, "display")?.title);
  }
  // The server's plain words, with the clinician's notation beside them (webapp/patient_words.py).
  const results = server?.show_results ? server.results_words : null;
  find("results").hidden = !results?.length;
  if (results?.length) find("results-list").replaceChildren(...results.map((line) => el("li", {}, line)));
  if (phase() === "done") forgetCalibration();
}

// ---------------------------------------------------------------- server events

function applyState(state) {
  // The language changed elsewhere (another tab of this test): load the page again in it.
  if (state.language && state.language !== language) return window.location.reload();
  const previous = store.get("server");
  store.update({ server: state });
  applyPractice(state.practice);
  padConnectionChanged(previous, state);
  distanceGuard.update(state);
  if (state.phase === "calibrate" && previous?.phase !== "calibrate" && !["scale", "distance"].includes(store.get("step"))) {
    store.update({ step: "scale", rangeShown: false });
  }
  applyMoveCloser(state.move_closer);
  if (state.current_stimulus && state.phase === "testing") {
    store.update({ stimulus: state.current_stimulus, step: "test" });
    showStimulus(state.current_stimulus);
  } else if (state.phase !== "testing") {
    store.update({ stimulus: null });
    collector.clear();
    clearStimulus();
  }
  if (state.phase === "testing" || state.phase === "between_eyes") store.update({ step: "test" });
  if (state.phase === "done") store.update({ step: "done" });
  renderAll();
}

function renderNeeds() {
  const setup = store.get("server")?.setup;
  const near = onPhone() ? "near-phone" : "near";
  const need = setup === "mirror" ? "mirror" : setup === "near_40cm" ? near : "far";
  for (const item of findAll("need")) item.hidden = item.dataset.need !== need;
}

function renderAll() {
  renderNeeds();
  renderWelcome();
  renderStep();
  renderRecalibrateReason();
  renderDistance();
  renderAnswers();
  renderPrepare();
  renderPractice();
  renderTestKeys();
  renderDone();
}

store.addEventListener("change", (event) => {
  if (["step", "server", "stimulus", "refused"].some((key) => event.detail.changed.includes(key))) {
    renderStep();
    if (resolveStep(store.get("step")) === "prepare" && !practiceSymbol && geometry) startPractice();
    askForPadCode();
  }
  if (event.detail.changed.includes("rangeShown")) renderDistance();
  if (event.detail.changed.includes("recalibrateReason")) renderRecalibrateReason();
});

socket.on("connect", () => showConnection(null));
// Closed by the server for good (the link withdrawn or replaced: `refused`), it does not reconnect.
socket.on("disconnect", () => showConnection(store.get("refused") ? null : t("Connection lost. Reconnecting… Stay where you are.")));
socket.on("connect_error", (error) => {
  // A refused connection (bad or expired link) is final; anything else is retried by the client.
  if (!socket.active) {
    showConnection(null);
    showError(error.message);
    store.update({ refused: true });
  } else {
    showConnection(t("Cannot reach the server. Retrying… Check your internet connection."));
  }
});
socket.on("state", (state) => applyState(state));
// The server sends `state` before the messages of the same change (docs/protocol.md), so a
// `stimulus` arrives on a screen already in `testing`, and `paused`, `resumed`, `recalibrate`,
// `test_done` on one already showing their phase: they only add what `state` does not carry.
socket.on("stimulus", (stimulus) => {
  if (store.get("stimulus")?.seq !== stimulus.seq) voice.chime();
  store.update({ stimulus, step: "test" });
  showStimulus(stimulus);
  renderTestOverlay();
});
const ZOOMED = t("the page was zoomed, or moved to another screen. Press {keys} to undo a zoom (or move the page " +
  "back): your measurement then comes back by itself.", { keys: undoZoomKeys() });
const RECALIBRATE_REASONS = {
  drawn_size_off: t("the letters could not be drawn at the right size on this screen."),
  device_pixel_ratio_changed: ZOOMED,
  zoom_or_screen_changed: ZOOMED,
  clinician_request: t("your clinician asked for it."),
  distance_check: t("your clinician asked to check your distance again."),
  window_too_small: t("the window became too small for the letters. Make it full screen again: your measurement " +
    "then comes back by itself."),
};
/** Low vision: the server asks the patient to come closer and measure the new distance with the tape
 *  (the screen's scale stays: only the distance step is done again). */
function applyMoveCloser(move) {
  const current = store.get("moveCloser");
  if (!move) {
    if (current) store.update({ moveCloser: null });
    return;
  }
  if (current?.distance_mm === move.distance_mm) return;
  store.update({
    moveCloser: move, distanceOverrideMm: move.distance_mm, distanceOverride: move.distance_text,
    recalibrateReason: null, recalibrateCode: null, rangeShown: false, step: "distance",
  });
  find("tape-confirm").checked = false;
  setText(find("move-closer"), move.text);
  renderAll();
  find("distance-title").focus();
}

socket.on("recalibrate", ({ reason, ...move }) => {
  if (reason === "move_closer") {
    applyMoveCloser(move);
    return;
  }
  // The distance alone (the clinician's distance check): the screen's scale this tab measured is kept
  // and the patient goes straight to the distance step; without it (another tab), everything again.
  const kept = reason === "distance_check" ? restorableCalibration() : null;
  if (kept) {
    card.setWidth(kept.css_px_per_mm * card.horizontalMm);
    sweep.reset(card.cssPxPerMm);
    store.update({ recalibrateReason: null, recalibrateCode: reason, rangeShown: false, distanceCheck: true, step: "distance" });
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
    return renderAll();
  }
  store.update({
    recalibrateReason: RECALIBRATE_REASONS[reason] || t("the screen changed."), recalibrateCode: reason, rangeShown: false,
  });
  if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
  renderAll();
});
function applyPractice(practice) {
  const current = store.get("practice");
  if (!practice) {
    practiceAsked = false;
    if (current) store.update({ practice: null, practiceResult: null });
  } else if (!current || current.practice_id !== practice.practice_id || practice.answered !== Boolean(store.get("practiceResult"))) {
    store.update({ practice, practiceResult: practice.answered ? practice : null });
  }
  renderPractice();
}
socket.on("practice", (practice) => applyPractice(practice));
socket.on("practice_result", (result) => {
  const practice = store.get("practice");
  if (practice && practice.practice_id === result.practice_id) {
    store.update({ practiceResult: result });
    renderPractice();
  }
});

/** The phone came or went: the pairing step moves on by itself (no click needed here), the test
 * screen says the phone is lost and how to connect it again, then that it is back. */
let phoneBackTimer = null;
function padConnectionChanged(previous, server) {
  if (!previous || previous.pad_connected === server.pad_connected) return;
  if (server.pad_connected) {
    store.update({ padCode: null, phoneLostDismissed: false });
    if (resolveStep(store.get("step")) === "answers") goTo("prepare");
    if (["testing", "between_eyes", "paused"].includes(server.phase) && previous.pad_paired) {
      store.update({ phoneBackUntil: Date.now() + 3000 });
      clearTimeout(phoneBackTimer);
      phoneBackTimer = setTimeout(() => { store.update({ phoneBackUntil: 0 }); renderTestOverlay(); }, 3000);
    }
  }
}

socket.on("eye_done", () => {
  collector.clear();
  clearStimulus();
});
socket.on("test_done", () => {
  if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
});
socket.on("device_status", ({ pad_connected: padConnected, display_connected: displayConnected }) => {
  const server = store.get("server");
  if (!server) return;
  const next = { ...server, pad_connected: padConnected, display_connected: displayConnected };
  if (padConnected) next.pad_paired = true;
  store.update({ server: next });
  padConnectionChanged(server, next);
  renderAll();
});
socket.on("error", ({ error, message }) => {
  if (error === "replaced") showError(t("This test was opened in another window or tab. Please use that one and close this one."));
  else showError(message);
  if (error === "replaced" || error === "link_revoked") store.update({ refused: true });
});

watchPageEvents((kind, detail) => {
  if (!socket.connected || !store.get("server")) return;
  request(socket, "page_event", { kind, detail });
});

window.addEventListener("beforeunload", (event) => {
  // The link is no longer in the address bar: leaving would need a new link from the clinician.
  if (!["done", "welcome"].includes(phase())) event.preventDefault();
});

loadGeometry().then((loaded) => {
  geometry = loaded;
  renderAll();
  if (resolveStep(store.get("step")) === "prepare") startPractice();
}).catch(() => showError(t("The test shapes could not be loaded. Please reload the page.")));

renderAll();
