// The response pad: the patient's phone, across the room, shows big answer buttons for the
// current trial (`answer_request`: how many symbols and which are possible; never what is shown).
import { Store } from "../store.js";
import { find, setText } from "../dom.js";
import { connect, request } from "../socket.js";
import { AnswerCollector, answerButtons, isDirectionSet, symbolForKey, symbolLabel } from "../answers.js";
import { DeviceCall } from "../call.js";
import { distancePauseMessage } from "./distance-guard.js";

// No token in this page: the pad link was exchanged for an HttpOnly cookie (docs/protocol.md, section 2),
// which the socket's handshake sends; a reloaded or reopened pad comes back to the same test.

const store = new Store({ connected: false, phase: null, answerMode: "patient", state: null });
const collector = new AnswerCollector();
const socket = connect("/patient", { device: "pad" });
new DeviceCall(socket, "pad"); // the call's sound through the phone, if the patient wants

const WAITING = {
  welcome: "The test has not started yet. Follow the steps on the big screen.",
  calibrate: "Follow the steps on the big screen. The buttons will appear here when the test starts.",
  ready: "Go to your place. The buttons will appear here when the test starts.",
  testing: "Waiting for the next letter…",
  paused: "The test is paused. Please wait.",
  between_eyes: "Switch eyes as the big screen says, then press Continue there.",
  done: "The test is finished. Thank you! You can close this page.",
};

function showError(message) {
  const node = find("error");
  node.hidden = !message;
  setText(node, message || "");
}

function render() {
  const connection = find("pad-connection");
  connection.dataset.on = String(store.get("connected"));
  setText(connection, store.get("connected") ? "Connected to the test" : "Not connected — trying again…");
  const answering = collector.active && store.get("answerMode") !== "clinician";
  const answerSection = find("pad-answer");
  const wasHidden = answerSection.hidden;
  answerSection.hidden = !answering;
  find("pad-waiting").hidden = answering;
  let message = WAITING[store.get("phase")] || "Waiting for the test to start.";
  if (store.get("phase") === "paused" && store.get("state")?.paused_reason === "distance") message = distancePauseMessage(store.get("state"));
  if (store.get("answerMode") === "clinician") message = "Your clinician marks your answers: say them out loud. You do not need this phone.";
  setText(find("pad-message"), message);
  if (answering) {
    const count = collector.request.count || 1;
    const position = collector.responses.length + 1;
    setText(find("pad-question"), count > 1
      ? `Symbol ${position} of ${count}, from the left: which one?`
      : "Which one do you see?");
    setText(find("pad-hint"), "If you cannot see it, guess. Press “not sure” only if you have no idea.");
    find("action", "undo").hidden = collector.responses.length === 0;
    if (wasHidden) find("pad-question").focus();
  }
}

function buildKeys(symbols) {
  const keys = find("pad-keys");
  keys.classList.toggle("directions", isDirectionSet(symbols));
  keys.replaceChildren(...answerButtons(symbols, (symbol) => collector.add(symbol)));
}

collector.addEventListener("change", render);
collector.addEventListener("complete", async (event) => {
  setText(find("pad-sent"), `Sent: ${event.detail.responses.map(symbolLabel).join(" ")}`);
  navigator.vibrate?.(30);
  const ack = await request(socket, "answer", event.detail);
  if (!ack.ok && ack.error !== "stale_trial") showError(ack.message);
  else showError(null);
});
find("action", "undo").addEventListener("click", () => collector.undo());

document.addEventListener("keydown", (event) => {
  if (!collector.active || event.target.closest?.("button")) return;
  const symbol = symbolForKey(event, collector.request.symbols || []);
  if (symbol !== undefined) {
    event.preventDefault();
    collector.add(symbol);
  }
});

function startRequest(answerRequest) {
  if (!answerRequest) return;
  buildKeys(answerRequest.symbols || []);
  setText(find("pad-sent"), "");
  collector.start(answerRequest);
  render();
}

socket.on("connect", () => { store.update({ connected: true }); showError(null); render(); });
socket.on("disconnect", () => { store.update({ connected: false }); render(); });
socket.on("connect_error", (error) => {
  if (!socket.active) showError(error.message);
  render();
});
socket.on("state", (state) => {
  store.update({ phase: state.phase, answerMode: state.answer_mode, state });
  if (state.current_request && state.phase === "testing") startRequest(state.current_request);
  else if (state.phase !== "testing") collector.clear();
  render();
});
// The server sends `state` (the phase) before the messages of the same change, so `paused`,
// `eye_done` and `test_done` need nothing here: the `state` before them has cleared the buttons.
socket.on("answer_request", startRequest);
socket.on("error", ({ error, message }) => {
  showError(error === "replaced" ? "The answer buttons were opened on another phone or tab. Use that one." : message);
});

document.addEventListener("visibilitychange", () => {
  if (socket.connected) request(socket, "page_event", { kind: document.visibilityState === "hidden" ? "hidden" : "visible", detail: {} });
});

render();
