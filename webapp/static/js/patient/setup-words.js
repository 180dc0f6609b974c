// Small helpers of the set-up steps: what the welcome step lists, whether this screen is a phone
// used alone, and how to undo a browser zoom. Every number and notation comes from the server.
import { t } from "../i18n.js";

/** Whether this page runs on a phone (a touch screen with a short side under 600 CSS px). */
export function onPhone() {
  const coarse = window.matchMedia?.("(pointer: coarse)").matches;
  return Boolean(coarse) && Math.min(window.screen.width, window.screen.height) < 600;
}

/** Whether this page has touch only (a phone, or a tablet with no mouse): no Backspace key to correct with. */
export function touchOnly() {
  const fine = window.matchMedia?.("(any-pointer: fine)").matches;
  return onPhone() || (Boolean(window.matchMedia?.("(pointer: coarse)").matches) && !fine);
}

/** The phone-alone case on this set-up: {text, refused}; text "" when it does not apply.
 *  A phone alone serves a near test only: held at 40 cm it is the screen and the buttons. */
export function phoneAloneText(server) {
  if (!server || !onPhone()) return { text: "", refused: false };
  if (server.setup === "near_40cm") {
    return { text: t("You can take this near test on this phone alone."), refused: false };
  }
  const where = server.setup === "mirror" ? t("a mirror test") : t("a test at {distance}", { distance: server.required_distance_text });
  return {
    text: t("This phone's screen is too small for {test}. Please take the test on a computer, a laptop or a tablet " +
      "(this phone can then be your answer buttons): ask your clinician for a new link to open there.", { test: where }),
    refused: true,
  };
}

/** The item "glasses" of the list of what to bring, from the correction the clinician set. */
export function glassesText(server) {
  const near = server?.setup === "near_40cm";
  if (server?.correction === "glasses") {
    return near ? t("your reading glasses: wear them for the test") : t("your glasses for distance: wear them for the test");
  }
  if (server?.correction === "contact_lenses") return t("your contact lenses: wear them for the test");
  return near ? t("your reading glasses, if you wear them") : t("your glasses or contact lenses, if you wear them for distance");
}

/** The keys that undo a browser zoom here: Cmd+0 on Apple devices, Ctrl+0 elsewhere. */
export function undoZoomKeys() {
  const platform = navigator.userAgentData?.platform || navigator.platform || "";
  return /mac|iphone|ipad/i.test(platform) ? "Cmd+0" : "Ctrl+0";
}

// The last calibration this tab sent, kept for the tab's life (sessionStorage): after a zoom voids
// it, going back to the same devicePixelRatio and at least the same window brings it back without
// measuring again. It holds the screen's scale and size, nothing that identifies the test.
const KEY = "visus.last-calibration";

export function rememberCalibration(payload) {
  try { sessionStorage.setItem(KEY, JSON.stringify(payload)); } catch { /* private mode: no restore */ }
}

export function forgetCalibration() {
  try { sessionStorage.removeItem(KEY); } catch { /* nothing stored */ }
}

/** The stored calibration, with this window's size, when the page is back at its zoom and window. */
export function restorableCalibration() {
  let stored = null;
  try { stored = JSON.parse(sessionStorage.getItem(KEY) || "null"); } catch { return null; }
  if (!stored || stored.device_pixel_ratio !== window.devicePixelRatio) return null;
  if ((window.visualViewport?.scale ?? 1) !== 1) return null;
  const viewport = [Math.round(window.innerWidth), Math.round(window.innerHeight)];
  const [width, height] = stored.viewport_css_px;
  if (viewport[0] < width || viewport[1] < height) return null;
  return { ...stored, viewport_css_px: viewport };
}
