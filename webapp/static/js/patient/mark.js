// What the patient is told at their mark, across the room: the one list of these words, shown
// large on the display and the same on the phone (docs/protocol.md, "At the mark").
// The display draws them at the server's `mark_text_css_px` (a capital letter that someone with
// 6/60 sight reads from the mark: calibration/size.py, readable_text_css_px), or smaller only as
// far as the screen needs.

const EYE_TO_COVER = { right: "left", left: "right" };

/**
 * The message for where the test is, or null when there is nothing to say at the mark.
 * `state`: the server's `state`. `device`: "display" or "pad" (only the hint differs: what to press where).
 * Returns {key, title, hint}: `title` is short (read from the mark), `hint` says what to do.
 */
export function markMessage(state, device) {
  if (!state) return null;
  const eye = state.eye;
  const cover = EYE_TO_COVER[eye];
  const onPhone = device === "pad";
  const press = (button) => (onPhone ? `Press ${button} below` : `Press ${button} on your phone (or the Enter key here)`);
  const actions = state.actions || [];
  // Titles are a few words, read from the mark; the hint says the rest.
  switch (state.phase) {
    case "ready":
      return {
        key: "start",
        title: eye === "both" ? "Keep both eyes open" : `Cover your ${cover} eye`,
        hint: `${eye === "both" ? "We test both eyes together." : `We test your ${eye} eye.`} ` +
          `${press("Start")} when you are at your mark${state.calibration?.position_text ? `, ${state.calibration.position_text}` : ""}.`,
      };
    case "between_eyes":
      return {
        key: "switch",
        title: eye === "both" ? "Uncover your eye" : `Now cover your ${cover} eye`,
        hint: `Well done, that eye is finished. ${eye === "both" ? "Now we test both eyes together." : `Now we test your ${eye} eye.`} ` +
          `${press("Continue")} when you have switched.`,
      };
    case "paused":
      if (state.paused_reason === "page_hidden" && actions.includes("ready")) {
        return {
          key: "paused",
          title: "Test paused",
          hint: `The page was hidden or changed. ${press("Continue")} when you are back at your mark.`,
        };
      }
      return { key: "paused", title: "Test paused", hint: "Please wait: your clinician will continue the test." };
    case "calibrate":
      return { key: "measure", title: "Please come to the screen", hint: "The screen needs to be measured again." };
    case "done":
      return { key: "finished", title: "Finished. Thank you!", hint: "You can close this page." };
    default:
      return null;
  }
}

/** The words when the phone is lost during the test (display) and when it is back. */
export const PHONE_LOST = {
  key: "phone-lost",
  title: "Phone not connected",
  hint: "Scan this code with your phone, or type the address and code below on it. Or answer with the keyboard here.",
};
export const PHONE_BACK = { key: "phone-back", title: "Phone connected again", hint: "" };

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
