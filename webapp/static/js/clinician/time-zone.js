// The dashboard: sends the browser's time zone once, when the clinician has none stored, so the
// server shows every time in it (webapp/clinician/times.py); then shows the page again in that zone.
import { find } from "../dom.js";

const form = find("time-zone-unset");
const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
if (form && zone) {
  const body = new URLSearchParams({
    time_zone: zone,
    from: "browser",
    csrf_token: form.querySelector("[name=csrf_token]").value,
  });
  fetch(form.action, { method: "POST", body, credentials: "same-origin" }).then((response) => {
    if (response.status === 204) window.location.reload(); // stored: once only
  });
}
