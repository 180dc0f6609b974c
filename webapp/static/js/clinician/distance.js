// The webcam distance guard in the clinician's live view: the live estimate and the pauses it caused
// (docs/protocol.md, `distance_guard`). Every number and distance here is the server's text.

/** One line for the live view: the estimate, its deviation from the mark, the tolerance. */
export function distanceGuardText(guard) {
  if (!guard) return "not used";
  if (guard.method === "off") return guard.off_text ? `off: ${guard.off_text}` : "off";
  if (!guard.reference) return "camera on; the patient has not recorded their place yet";
  const now = guard.face_found === false ? "face not in view"
    : guard.estimate_text ? `${guard.estimate_text} (${guard.deviation_text} from the mark)` : "—";
  const held = guard.paused ? " — test paused" : guard.suspended ? " — you resumed it: not pausing" : "";
  return `${now}, tolerance ${guard.tolerance_text}${held}. Out of tolerance ${guard.time_out_of_tolerance_s} s, ` +
    `largest ${guard.largest_deviation_text ?? "—"}, ${guard.pauses} pause(s).`;
}

/** The text of a stored or live event the guard caused, or null when it is not one of them. */
export function distanceEventText(event) {
  const detail = event.detail || {};
  if (event.kind === "distance_guard") {
    if (detail.kind === "off") return `Distance check off: ${(event.detail_text || {}).reason || "no reason given"}.`;
    if (detail.kind === "reference") return "The patient recorded their place for the distance check.";
    return null;
  }
  if (detail.reason !== "distance" || !["paused", "resumed"].includes(event.kind)) return null;
  const where = detail.face_found === false ? "the camera lost the patient's face"
    : `the patient was ${Math.round(Math.abs(detail.deviation) * 100)}% ${detail.deviation > 0 ? "further" : "closer"} than the mark`;
  return event.kind === "paused" ? `Distance check paused the test: ${where}.` : "The patient is back at the mark: the test continues.";
}
