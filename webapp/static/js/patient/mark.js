// What the patient is told at their mark, across the room: the one list of these words, shown
// large on the display and the same on the phone (docs/protocol.md, "At the mark").
// The display draws them at the server's `mark_text_css_px` (a capital letter that someone with
// 6/60 sight reads from the mark: calibration/size.py, readable_text_css_px), or smaller only as
// far as the screen needs.
import { t } from "../i18n.js";

/**
 * The message for where the test is, or null when there is nothing to say at the mark.
 * `state`: the server's `state`. `device`: "display" or "pad" (only the hint differs: what to press where).
 * Returns {key, title, hint}: `title` is short (read from the mark), `hint` says what to do.
 */
export function markMessage(state, device) {
  if (!state) return null;
  const eye = state.eye;
  const onPhone = device === "pad";
  const actions = state.actions || [];
  const where = state.calibration?.position_text;
  // Titles are a few words, read from the mark; the hint says the rest. Each sentence is whole, so
  // that it translates as a sentence (webapp/static/js/i18n.js).
  switch (state.phase) {
    case "ready": {
      const title = eye === "both" ? t("Keep both eyes open") : eye === "left" ? t("Cover your right eye") : t("Cover your left eye");
      const tested = eye === "both" ? t("We test both eyes together.") : eye === "left" ? t("We test your left eye.") : t("We test your right eye.");
      const press = onPhone
        ? (where ? t("Press Start below when you are at your mark, {where}.", { where }) : t("Press Start below when you are at your mark."))
        : (where ? t("Press Start on your phone (or the Enter key here) when you are at your mark, {where}.", { where })
          : t("Press Start on your phone (or the Enter key here) when you are at your mark."));
      return { key: "start", title, hint: `${tested} ${press}` };
    }
    case "between_eyes": {
      const title = eye === "both" ? t("Uncover your eye") : eye === "left" ? t("Now cover your right eye") : t("Now cover your left eye");
      const next = eye === "both" ? t("Now we test both eyes together.") : eye === "left" ? t("Now we test your left eye.") : t("Now we test your right eye.");
      const press = onPhone ? t("Press Continue below when you have switched.")
        : t("Press Continue on your phone (or the Enter key here) when you have switched.");
      return { key: "switch", title, hint: `${t("Well done, that eye is finished.")} ${next} ${press}` };
    }
    case "paused":
      if (state.paused_reason === "page_hidden" && actions.includes("ready")) {
        const press = onPhone ? t("Press Continue below when you are back at your mark.")
          : t("Press Continue on your phone (or the Enter key here) when you are back at your mark.");
        return { key: "paused", title: t("Test paused"), hint: `${t("The page was hidden or changed.")} ${press}` };
      }
      return { key: "paused", title: t("Test paused"), hint: t("Please wait: your clinician will continue the test.") };
    case "calibrate":
      return { key: "measure", title: t("Please come to the screen"), hint: t("The screen needs to be measured again.") };
    case "done":
      return { key: "finished", title: t("Finished. Thank you!"), hint: t("You can close this page.") };
    default:
      return null;
  }
}

/** The words when the phone is lost during the test (display) and when it is back. */
export const PHONE_LOST = {
  key: "phone-lost",
  title: t("Phone not connected"),
  hint: t("Scan this code with your phone, or type the address and code below on it. Or answer with the keyboard here."),
};
export const PHONE_BACK = { key: "phone-back", title: t("Phone connected again"), hint: "" };

/** What a tap sent, as the pad confirms it: the symbols, or a tick for a button without one. */
export const TICK = "✓";

/**
 * Set `node`'s font size to `sizePx`, or smaller until its content fits its box (never below
 * `minPx`): "as large as the screen allows" when the screen cannot take the readable size.
 */
export function fitText(node, sizePx, minPx = 20) {
  if (!node) return;
  let size = Math.max(minPx, sizePx || 0);
  node.style.fontSize = `${size}px`;
  for (let i = 0; i < 40 && size > minPx; i++) {
    if (node.scrollHeight <= node.clientHeight + 1 && node.scrollWidth <= node.clientWidth + 1) break;
    size = Math.max(minPx, size * 0.92);
    node.style.fontSize = `${size}px`;
  }
  node.dataset.fontPx = String(Math.round(size * 10) / 10);
}
