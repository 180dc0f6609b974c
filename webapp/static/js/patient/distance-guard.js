// The webcam distance guard on the patient's display (docs/measurement.md, "Distance guard";
// docs/protocol.md, `distance_guard`). With the patient's consent the display opens the camera frame
// (/test/camera, face-frame.js: the camera and the face landmarks, from files Visus serves itself,
// under that frame's own policy; docs/security.md), which posts this page each frame's eye spacing
// (the eyes' centres from their corners, face-landmarks.js) and nothing else. The page sends the
// server numbers only: a reference at the mark, then the median of the last second about twice a
// second, or null when no face was seen for that second. The server decides whether to pause.
// No picture leaves the frame and none is kept.
import { t } from "../i18n.js";
import { find, setText } from "../dom.js";
import { request } from "../socket.js";

const CAMERA_FRAME_URL = "/test/camera";
const WINDOW_MS = 1000; // the median's window (about a second of frames)
const SEND_EVERY_MS = 500; // samples to the server: twice a second at most
const REFERENCE_MS = 1500; // frames collected for the reference: at least this long,
const REFERENCE_MIN_FRAMES = 3; // and at least this many frames with the face (a slow computer needs longer),
const REFERENCE_MAX_MS = 6000; // but no longer than this
const REFERENCE_COUNTDOWN_S = 10; // time to walk from the button to the mark
const NEAR_COUNTDOWN_S = 3; // near: the patient is already in place, only settling back from the button
// The camera frame must say how it started within this: the browser's question about the camera
// answered and the face model loaded (a few MB, on a slow line too). Silent longer (the question left
// unanswered, the camera held by another app, the model never loaded): the check is off, and the
// patient and the clinician are told.
const STARTUP_MS = 30000;
const REFERENCE_MAX_SPREAD = 0.06; // frames of a reference may differ by this much (a patient standing still)
// The answer is kept for this tab (like the call's), so a reload does not ask again; the call's
// "yes" counts too: it is the same camera, asked once.
const CONSENT_KEY = `visus.distance.${location.pathname}`;
const CALL_CONSENT_KEY = `visus.call.display.${location.pathname}`;

function median(values) {
  const sorted = values.slice().sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export class DistanceGuard {
  constructor(socket) {
    this.socket = socket;
    this.panel = find("distance-guard");
    this.status = find("distance-status", undefined, this.panel);
    this.frameHost = find("distance-frame", undefined, this.panel);
    this.frame = null; // the camera frame, once the patient allowed the camera
    this.state = null; // the server's `state.distance_guard`
    this.phase = null;
    this.decided = null; // "starting" | "allowed" | "refused" | "unavailable" | "failed" | "timeout" | "declined"
    this.frames = []; // [{at, spacing|null}]
    this.lastSent = 0;
    this.bind();
    window.addEventListener("message", (event) => this.onMessage(event));
  }

  bind() {
    const on = (action, fn) => find("distance-action", action, this.panel).addEventListener("click", fn);
    on("allow", () => this.decide(true));
    on("refuse", () => this.decide(false));
    on("reference", () => this.recordReference());
  }

  /** Every `state`: show the panel where the patient gets ready; start again after a reload. */
  update(state) {
    this.state = state.distance_guard || null;
    // Near (40 cm): the patient sits in front of the screen; there is no mark to walk back to.
    this.near = state.setup === "near_40cm" ? state.required_distance_text || "40 cm" : null;
    this.phase = state.phase;
    const calibrated = Boolean(state.calibration) && state.phase !== "calibrate" && state.phase !== "done";
    this.panel.hidden = !calibrated;
    if (!calibrated) return this.render();
    if (this.decided === null) {
      const earlier = sessionStorage.getItem(CONSENT_KEY) ?? (sessionStorage.getItem(CALL_CONSENT_KEY) === "yes" ? "yes" : null);
      if (earlier !== null) this.decide(earlier === "yes");
    }
    this.render();
  }

  async decide(allowed) {
    if (this.decided !== null) return;
    sessionStorage.setItem(CONSENT_KEY, allowed ? "yes" : "no");
    this.decided = allowed ? "starting" : "declined";
    this.render();
    if (!allowed) return this.off("declined");
    // The camera and the model live in a frame of this origin with its own policy; `allow="camera"`
    // lets it use the camera this page may use (the same permission as the video call's).
    this.frame = document.createElement("iframe");
    this.frame.className = "distance-frame";
    this.frame.title = t("Your camera");
    this.frame.allow = "camera";
    this.frame.src = CAMERA_FRAME_URL;
    this.frameHost.append(this.frame);
    this.startup = setTimeout(() => this.startupTimedOut(), STARTUP_MS);
  }

  /** The frame never said how it started: stop it, turn the check off, say what to do. */
  startupTimedOut() {
    if (this.decided !== "starting") return;
    this.decided = "timeout";
    this.frame?.remove(); // its camera, if any, stops with it
    this.frame = null;
    this.render();
    this.off("timeout");
  }

  /** The camera frame's messages: its status, then each frame's eye spacing (numbers only). */
  onMessage(event) {
    if (!this.frame || event.source !== this.frame.contentWindow || event.origin !== location.origin) return;
    const message = event.data;
    if (message?.visus !== "face") return;
    if (message.kind === "status" && this.decided === "starting") {
      if (!["allowed", "refused", "unavailable", "failed"].includes(message.status)) return;
      clearTimeout(this.startup);
      this.decided = message.status;
      this.render();
      if (message.status !== "allowed") {
        this.frame.remove(); // its camera, if any, stops with it
        this.frame = null;
        this.off(message.status);
      }
    } else if (message.kind === "frame" && this.decided === "allowed") {
      const spacing = message.eye_spacing_px;
      if (spacing === null || (typeof spacing === "number" && Number.isFinite(spacing) && spacing > 0)) this.onFrame(spacing);
    }
  }

  off(reason) {
    return request(this.socket, "distance_guard", { kind: "off", reason });
  }

  onFrame(spacing) {
    const now = performance.now();
    this.frames.push({ at: now, spacing });
    this.frames = this.frames.filter((frame) => now - frame.at <= Math.max(WINDOW_MS, REFERENCE_MAX_MS));
    this.panel.dataset.faceFound = String(spacing !== null);
    this.panel.dataset.frameSpacingPx = spacing === null ? "" : spacing.toFixed(2);
    this.renderStatus();
    if (this.state?.reference && now - this.lastSent >= SEND_EVERY_MS) this.sendSample(now);
  }

  /** The median spacing of the last second; null when no face was seen in it. */
  sendSample(now) {
    const recent = this.frames.filter((frame) => now - frame.at <= WINDOW_MS);
    if (!recent.length) return;
    // "Lost for more than a moment": no face in a whole second of frames.
    const seen = recent.filter((frame) => frame.spacing !== null).map((frame) => frame.spacing);
    if (!seen.length && now - this.frames[0].at < WINDOW_MS) return; // not a whole second yet
    this.lastSent = now;
    const spacing = seen.length ? median(seen) : null;
    this.panel.dataset.spacingPx = spacing === null ? "" : spacing.toFixed(2);
    request(this.socket, "distance_guard", { kind: "sample", eye_spacing_px: spacing });
  }

  async recordReference() {
    const button = find("distance-action", "reference", this.panel);
    button.disabled = true;
    this.panel.dataset.reference = "counting";
    for (let left = this.near ? NEAR_COUNTDOWN_S : REFERENCE_COUNTDOWN_S; left > 0; left -= 1) {
      setText(this.status, this.near
        ? t("Keep your eyes {distance} from the screen and face it. Your place is recorded in {seconds} s.",
          { distance: this.near, seconds: left })
        : t("Go to your mark now and face the screen. Your place is recorded in {seconds} s.", { seconds: left }));
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    setText(this.status, t("Stand still at your mark, facing the screen…"));
    this.panel.dataset.reference = "recording";
    const start = performance.now();
    const seenSince = () => this.frames.filter((frame) => frame.at >= start && frame.spacing !== null).map((frame) => frame.spacing);
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const elapsed = performance.now() - start;
      if ((elapsed >= REFERENCE_MS && seenSince().length >= REFERENCE_MIN_FRAMES) || elapsed >= REFERENCE_MAX_MS) break;
    }
    const seen = seenSince();
    button.disabled = false;
    const middle = seen.length ? median(seen) : null;
    const spread = seen.length ? (Math.max(...seen) - Math.min(...seen)) / middle : Infinity;
    if (seen.length < REFERENCE_MIN_FRAMES || spread > REFERENCE_MAX_SPREAD) {
      this.panel.dataset.reference = "retry";
      return setText(this.status, seen.length < REFERENCE_MIN_FRAMES
        ? t("The camera could not see your face well enough. Face the screen at your mark, then press the button again.")
        : t("You moved while your place was recorded. Stand still at your mark, then press the button again."));
    }
    const ack = await request(this.socket, "distance_guard", { kind: "reference", eye_spacing_px: middle });
    if (!ack.ok) {
      this.panel.dataset.reference = "retry";
      return setText(this.status, ack.message);
    }
    this.panel.dataset.reference = "recorded";
    this.panel.dataset.referencePx = middle.toFixed(2);
    setText(this.status, t("Your place is recorded. If you move away from it, the test waits until you are back."));
  }

  renderStatus() {
    if (this.decided !== "allowed" || ["retry", "counting", "recording"].includes(this.panel.dataset.reference)) return;
    if (this.state?.reference) {
      if (this.panel.dataset.reference !== "recorded") {
        setText(this.status, t("Your place is recorded. If you move away from it, the test waits until you are back."));
      }
      return;
    }
    setText(this.status, this.panel.dataset.faceFound === "true"
      ? t("The camera sees your face. At your mark, press “Record my place”.")
      : t("The camera is looking for your face. Sit close to the screen until it is found, then walk back to your mark facing the screen."));
  }

  render() {
    const ask = this.decided === null;
    // The panel is a <details>, closed so that the step fits; open while the camera is in use.
    if (["starting", "allowed"].includes(this.decided)) this.panel.open = true;
    find("distance-ask", undefined, this.panel).hidden = !ask;
    find("distance-on", undefined, this.panel).hidden = !["starting", "allowed"].includes(this.decided);
    find("distance-action", "reference", this.panel).disabled = this.decided !== "allowed";
    this.panel.dataset.decided = this.decided ?? "";
    const off = find("distance-off", undefined, this.panel);
    off.hidden = ask || ["starting", "allowed"].includes(this.decided);
    setText(off, {
      declined: t("You chose not to use the camera. The test works without it; keep to your mark."),
      refused: t("The camera was not allowed. The test works without it; keep to your mark."),
      unavailable: t("No camera could be used. The test works without it; keep to your mark."),
      failed: t("The camera check could not start on this browser. The test works without it; keep to your mark."),
      timeout: t("The camera check did not start: the camera may be blocked or busy. The test works without it; keep to " +
        "your mark. To try again, allow the camera for this page in your browser, then reload the page."),
    }[this.decided] || "");
    if (this.decided === "starting") setText(this.status, t("Starting the camera check…"));
    else this.renderStatus();
  }
}

/** The words of a pause the guard caused, from the server's state (large, at the mark). */
export function distancePauseMessage(state) {
  const guard = state.distance_guard || {};
  if (state.setup === "near_40cm" && guard.face_found !== false && guard.deviation) {
    const place = state.required_distance_text || "40 cm";
    return guard.deviation > 0
      ? t("You are too far from the screen. Come closer, to {distance}; the test goes on by itself.", { distance: place })
      : t("You are too close to the screen. Move back, to {distance}; the test goes on by itself.", { distance: place });
  }
  if (guard.face_found === false) {
    // Far from the camera the model cannot find a face it has lost: it follows one it found close up.
    return t("The camera lost your face. Come close to the screen until it finds you, then go back to your mark; the test goes on by itself.");
  }
  if (guard.deviation > 0) return t("You are too far from the screen. Step forward to your mark; the test goes on by itself.");
  if (guard.deviation < 0) return t("You are too close to the screen. Step back to your mark; the test goes on by itself.");
  return t("Please go back to your mark; the test goes on by itself.");
}
