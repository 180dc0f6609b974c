// The response pad: the patient's phone, at their mark across the room. It does everything that
// happens there: start when in place, the practice letter, continue after switching eyes or a
// pause, the answer buttons for the current trial (`answer_request`: how many symbols and which
// are possible; never what is shown), "I cannot see anything", and stop (after asking).
import { t, language } from "../i18n.js";
import { Store } from "../store.js";
import { find, setText } from "../dom.js";
import { connect, request } from "../socket.js";
import { AnswerCollector, answerButtons, isDirectionSet, symbolForKey, symbolLabel, NOT_SURE } from "../answers.js";
import { DeviceCall } from "../call.js";
import { markMessage, TICK } from "./mark.js";
import { loadGeometry, optotypeSvg } from "../optotypes.js";
import { Voice } from "./voice.js";
import { distancePauseMessage } from "./distance-guard.js";

// No token in this page: the pad link (or the code typed at /pad) was exchanged for an HttpOnly
// cookie (docs/protocol.md, section 1), which the socket's handshake sends; a reloaded or reopened
// pad comes back to the same test.

// What a tap sent stays on screen at least this long, and the buttons take no tap meanwhile, so a
// double tap cannot answer the next letter (the server also refuses an answer to any trial but the
// one on screen: `stale_trial`, and counts a repeat once).
export const SENT_MIN_MS = 700;

const store = new Store({
  connected: false, server: null, answerMode: "patient", practice: null, practiceResult: null, helper: false,
  refused: false, // the server closed this phone's link for good (withdrawn, replaced): only its message stays
});
// A child's test (the server's `state.child`): the set's letters as large buttons drawn like the
// chart's optotypes, a practice round that teaches matching, and an adult helper who may tap.
let geometry = null;
loadGeometry().then((loaded) => { geometry = loaded; drawKeyLetters(); }).catch(() => {});
const collector = new AnswerCollector();
const voice = new Voice();
const socket = connect("/patient", { device: "pad" });
new DeviceCall(socket, "pad"); // the call's sound through the phone, if the patient wants
voice.bind(find("voice-speech"), find("voice-sound"));

let sentUntil = 0; // taps are ignored until then (performance.now() ms)
let sentTimer = null;

function showError(message) {
  const node = find("error");
  node.hidden = !message;
  setText(node, message || "");
}

function button(action) {
  return find("pad-action", action);
}

function blocked() {
  return performance.now() < sentUntil;
}

/** Show what a tap sent (symbols or a tick) for at least SENT_MIN_MS, with a short vibration. */
function confirmSent(symbolText, words) {
  const box = find("pad-sent-box");
  setText(find("pad-sent-symbol"), symbolText);
  setText(find("pad-sent"), words);
  box.hidden = false;
  box.dataset.shownAt = String(Date.now());
  navigator.vibrate?.(40);
  sentUntil = performance.now() + SENT_MIN_MS;
  clearTimeout(sentTimer);
  sentTimer = setTimeout(() => { box.hidden = true; render(); }, SENT_MIN_MS);
  render();
}

function renderConnection() {
  const connection = find("pad-connection");
  connection.dataset.on = String(store.get("connected"));
  setText(connection, store.get("connected") ? t("Connected to the test") : t("Not connected — trying again…"));
}

function render() {
  if (store.get("refused")) {
    // Nothing here works any more: no buttons, no "trying again", only what to do (the error).
    for (const part of find("pad-app").children) part.hidden = part !== find("error");
    return;
  }
  renderConnection();
  const server = store.get("server");
  const actions = server?.actions || [];
  const clinicianScores = store.get("answerMode") === "clinician";
  const answering = collector.active && !clinicianScores;
  const practice = store.get("practice");
  const practicing = Boolean(practice && !practice.answered && !clinicianScores);
  const answerSection = find("pad-answer");
  const wasHidden = answerSection.hidden;
  // Just sent: the keys stay where they were (disabled) until the confirmation has been seen, so
  // the page does not jump under a finger and a second tap lands on a disabled key.
  const keysStay = !wasHidden && server?.phase === "testing" && (blocked() || Boolean(collector.request && collector.sent));
  answerSection.hidden = !(answering || practicing || keysStay);
  const child = Boolean(server?.child);
  const helper = child && Boolean(store.get("helper"));
  document.body.dataset.child = String(child);
  document.body.dataset.helper = String(helper);
  find("pad-helper").checked = helper;
  find("pad-helper-note").hidden = !helper;
  // While a practice letter waits, Start stays at hand (the practice is optional); a child's
  // practice letter gets the whole screen, Start comes back once it is answered.
  find("pad-waiting").hidden = answering || (keysStay && !practice) || (child && practicing);
  const message = markMessage(server, "pad");
  let title = message?.title || (server?.phase === "testing" ? t("Waiting for the next letter…") : t("Follow the steps on the test screen."));
  let hint = message?.hint || "";
  if (server?.phase === "paused" && server.paused_reason === "distance") hint = distancePauseMessage(server);
  if (server?.phase === "welcome" || server?.phase === "calibrate") {
    title = t("Follow the steps on the test screen.");
    hint = t("The buttons will appear here when the test starts. Keep this phone with you.");
  }
  if (clinicianScores && server?.phase !== "done") {
    title = t("Your clinician marks your answers.");
    hint = t("Say them out loud. You do not need this phone for answers.");
  }
  setText(find("pad-message"), title);
  setText(find("pad-hint-text"), hint);
  const ready = button("ready");
  // In `testing`, `ready` only sends the trial again: nothing for the patient to press.
  ready.hidden = !actions.includes("ready") || server?.phase === "testing";
  setText(ready, server?.phase === "ready" ? t("Start") : t("Continue"));
  // Offered before the first eye, where the test screen shows the practice letter ("Get ready").
  button("practice").hidden = !actions.includes("practice") || server?.phase !== "ready" || clinicianScores || practicing;
  const result = store.get("practiceResult");
  setText(find("pad-practice-result"), practiceResultText(result));
  if (child) {
    // The round goes on with "Next letter" until every letter was matched once (the server counts).
    const label = button("practice").dataset;
    setText(button("practice"), result ? (result.practice_left ? label.childNext : label.childAgain) : label.childFirst);
    if (result?.words) {
      setText(find("pad-message"), result.words.title);
      setText(find("pad-hint-text"), result.words.hint);
    }
    button("practice").classList.toggle("primary", Boolean(result?.practice_left));
    button("ready").classList.toggle("primary", !result?.practice_left);
  }
  find("pad-stop").hidden = !actions.includes("stop");
  const waitingForSent = blocked();
  for (const key of find("pad-keys").querySelectorAll("button")) key.disabled = waitingForSent;
  for (const action of ["cannot-see", "ready", "practice", "stop"]) button(action).disabled = waitingForSent;
  const question = find("pad-question").dataset;
  if (answering) {
    const count = collector.request.count || 1;
    const position = collector.responses.length + 1;
    setText(find("pad-question"), count > 1 ? t("Symbol {position} of {count}, from the left: which one?", { position, count })
      : helper ? question.helper : child ? question.child : t("Which one do you see?"));
    setText(find("pad-hint"), t("If you cannot see it, guess. Press “not sure” only if you have no idea."));
    find("action", "undo").hidden = collector.responses.length === 0;
    button("cannot-see").hidden = false;
  } else if (practicing) {
    setText(find("pad-question"), helper ? question.helper : child ? question.child : t("Practice: which one is on the screen?"));
    setText(find("pad-hint"), t("This does not count."));
    find("action", "undo").hidden = true;
    button("cannot-see").hidden = true;
  }
  if ((answering || practicing) && wasHidden) find("pad-question").focus();
  voice.say(answering || practicing ? find("pad-question").textContent : [title, hint].filter(Boolean).join(" "));
}

function practiceResultText(result) {
  if (!result) return "";
  if (result.words) return ""; // a child's round: the server's words are the title and hint
  if (result.correct) return t("Right! That is how you answer. Press Start when you are ready, or practise again.");
  return t("It was {symbol}. In the test, guess if you are not sure.", { symbol: symbolLabel(result.symbol) });
}

function buildKeys(symbols, onPick, optotypeSet) {
  const keys = find("pad-keys");
  const child = Boolean(store.get("server")?.child);
  keys.classList.toggle("directions", isDirectionSet(symbols));
  keys.classList.toggle("child", child);
  keys.dataset.optotypeSet = optotypeSet || "";
  // A child's keys: the letters only, drawn like the chart's; "I can't see it" is its own button.
  keys.replaceChildren(...answerButtons(symbols, (symbol) => { if (!blocked()) onPick(symbol); }, { notSure: !child }));
  drawKeyLetters();
}

/** A child's keys show each letter as the chart draws it (GET /optotypes.json), not in a font. */
function drawKeyLetters() {
  const keys = find("pad-keys");
  if (!geometry || !keys.classList.contains("child")) return;
  for (const key of keys.querySelectorAll("button[data-answer]")) {
    if (key.dataset.answer === "not-sure" || key.querySelector("svg")) continue;
    const letter = optotypeSvg(geometry, keys.dataset.optotypeSet, key.dataset.answer, 64);
    letter.style.width = letter.style.height = ""; // sized by the stylesheet, to the button
    key.replaceChildren(letter);
  }
}

collector.addEventListener("change", render);
collector.addEventListener("complete", async (event) => {
  const responses = event.detail.responses;
  const allUnseen = responses.every((response) => response === NOT_SURE);
  confirmSent(allUnseen ? TICK : responses.map(symbolLabel).join(" "), allUnseen ? t("Sent: not seen") : t("Sent"));
  const ack = await request(socket, "answer", event.detail);
  if (!ack.ok && ack.error !== "stale_trial") showError(ack.message);
  else showError(null);
});
find("action", "undo").addEventListener("click", () => collector.undo());
button("cannot-see").addEventListener("click", () => {
  // Answered as not seen: every symbol still to give is "not sure" (scored as wrong by the server).
  if (!collector.active || blocked()) return;
  while (collector.active) collector.add(NOT_SURE);
});

async function send(event, payload, confirmation) {
  if (blocked()) return { ok: false };
  if (confirmation) confirmSent(TICK, confirmation);
  const ack = await request(socket, event, payload);
  if (!ack.ok) showError(ack.message);
  else showError(null);
  return ack;
}

button("ready").addEventListener("click", () => send("ready", {}, t("Sent: start")));
button("practice").addEventListener("click", () => send("practice", {}, t("Sent: practice letter")));
button("stop").addEventListener("click", () => {
  find("pad-stop-confirm").hidden = false;
  button("stop").hidden = true;
  button("stop-no").focus();
});
button("stop-no").addEventListener("click", () => {
  find("pad-stop-confirm").hidden = true;
  button("stop").hidden = false;
});
button("stop-yes").addEventListener("click", async () => {
  find("pad-stop-confirm").hidden = true;
  button("stop").hidden = false;
  await send("stop", {}, t("Sent: stop"));
});

function answerPractice(symbol) {
  const practice = store.get("practice");
  if (!practice || practice.answered) return;
  store.update({ practice: { ...practice, answered: true } });
  confirmSent(symbolLabel(symbol), t("Sent"));
  request(socket, "practice_answer", { practice_id: practice.practice_id, response: symbol }).then((ack) => {
    if (!ack.ok && ack.error !== "stale_trial") showError(ack.message);
  });
  render();
}

document.addEventListener("keydown", (event) => {
  if (event.target.closest?.("button, input")) return;
  const practice = store.get("practice");
  const symbols = collector.active ? collector.request.symbols : practice && !practice.answered ? practice.symbols : null;
  if (!symbols || blocked()) return;
  const symbol = symbolForKey(event, symbols || []);
  if (symbol === undefined) return;
  event.preventDefault();
  if (collector.active) collector.add(symbol);
  else answerPractice(symbol);
});

function startRequest(answerRequest) {
  if (!answerRequest) return;
  store.update({ practice: null, practiceResult: null });
  buildKeys(answerRequest.symbols || [], (symbol) => collector.add(symbol), answerRequest.optotype_set);
  collector.start(answerRequest);
  voice.chime();
  render();
}

function startPractice(practiceRequest) {
  if (!practiceRequest) return;
  store.update({
    practice: practiceRequest,
    practiceResult: practiceRequest.answered ? practiceRequest : null,
  });
  if (!practiceRequest.answered) {
    buildKeys(practiceRequest.symbols || [], answerPractice, practiceRequest.optotype_set);
    voice.chime();
  }
  render();
}

socket.on("connect", () => {
  store.update({ connected: true });
  showError(null);
  render();
});
socket.on("disconnect", () => { store.update({ connected: false }); render(); });
socket.on("connect_error", (error) => {
  // A refused connection (a link no longer valid) is final; anything else is retried by the client.
  if (!socket.active) { showError(error.message); store.update({ refused: true }); }
  render();
});
socket.on("state", (state) => {
  // The pad follows the test's language: the patient chose another one on the test screen.
  if (state.language && state.language !== language) return window.location.reload();
  store.update({ server: state, answerMode: state.answer_mode, helper: Boolean(state.helper) });
  if (state.current_request && state.phase === "testing") startRequest(state.current_request);
  else if (state.phase !== "testing") collector.clear();
  if (state.practice) startPractice(state.practice);
  else store.update({ practice: null, practiceResult: null });
  render();
});
// The server sends `state` (the phase) before the messages of the same change, so `paused`,
// `eye_done` and `test_done` need nothing here: the `state` before them has cleared the buttons.
socket.on("answer_request", startRequest);
socket.on("practice_request", startPractice);
socket.on("practice_result", (result) => {
  const practice = store.get("practice");
  if (practice && practice.practice_id === result.practice_id) {
    store.update({ practice: { ...practice, answered: true }, practiceResult: result });
    render();
  }
});
socket.on("device_status", () => render());
socket.on("helper", ({ helper }) => { store.update({ helper: Boolean(helper) }); render(); });
find("pad-helper").addEventListener("change", async (event) => {
  const on = event.target.checked;
  const ack = await request(socket, "helper", { on });
  if (!ack.ok) showError(ack.message);
  else { showError(null); store.update({ helper: ack.helper }); }
  render();
});
socket.on("error", ({ error, message }) => {
  showError(error === "replaced" ? t("The answer buttons were opened on another phone or tab. Use that one.") : message);
  if (error === "replaced" || error === "link_revoked") { store.update({ refused: true }); render(); }
});

document.addEventListener("visibilitychange", () => {
  if (socket.connected) request(socket, "page_event", { kind: document.visibilityState === "hidden" ? "hidden" : "visible", detail: {} });
});

render();
