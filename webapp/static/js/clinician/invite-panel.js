// The invite panel (clinician/_invite_panel.html): copies the link and asks before re-issuing or
// withdrawing it. Everything else (QR code, e-mail, the actions) is plain HTML that works without it.
import { find, findAll, setText } from "../dom.js";

/** Put `input`'s text on the clipboard: the Clipboard API, else the selection and execCommand. */
async function copyText(input) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(input.value);
      return true;
    } catch {
      // refused (no permission, page not focused): try the older way
    }
  }
  input.focus();
  input.select();
  try {
    return document.execCommand("copy");
  } catch {
    return false;
  }
}

for (const panel of findAll("invite-panel")) {
  const input = find("invite-url", undefined, panel);
  const button = find("invite-copy", undefined, panel);
  const status = find("invite-copied", undefined, panel);
  if (input && button) {
    button.addEventListener("click", async () => {
      const copied = await copyText(input);
      setText(status, copied
        ? "Link copied: paste it into your message to the patient."
        : "The link could not be copied here: it is selected, press Ctrl+C (Cmd+C on a Mac).");
      if (!copied) input.select();
    });
  }
  for (const form of findAll("confirm", undefined, panel)) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
}
