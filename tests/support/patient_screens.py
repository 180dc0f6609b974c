"""Checks of a patient screen as the patient sees it: no clinicians' words, and the step fits the
window with its main button in view (issue 13, "Words a patient understands", "Fits every screen")."""

from __future__ import annotations

import re

# What a patient screen never shows: measurement units and notations of the clinician, the
# browser's units, and names from the code. Case-insensitive, on the visible text and on what a
# screen reader reads (aria-label, aria-valuetext, title, placeholder, alt).
FORBIDDEN = {
    "logMAR": re.compile(r"log\s*MAR", re.I),
    "decimal acuity": re.compile(r"\bdecimal\b", re.I),
    "Snellen fraction": re.compile(r"\b\d+(?:\.\d+)?\s*/\s*\d+(?:\.\d+)?\b"),
    "CSS px": re.compile(r"\bCSS\b|\bpx\b|\bpixels?\b", re.I),
    "screen points": re.compile(r"screen points?", re.I),
    "device pixel ratio": re.compile(r"device\s*pixel\s*ratio|devicePixelRatio|\bDPR\b", re.I),
    "internal name": re.compile(
        r"\b(?:near_40cm|blind_spot|tumbling_e|landolt_c\d|answer_mode|page_hidden|trial_id|"
        r"recalibration_needed|calibration_refused|undefined|null|NaN|None)\b"
    ),
}

# The visible text of the page, and what assistive technology reads, without the parts where the
# clinician's notation is allowed (the shared results: plain words with the notation beside them).
_TEXTS = """(allowed) => {
  const shown = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  const texts = [document.body.innerText];
  for (const el of document.querySelectorAll(allowed)) if (shown(el)) texts.push({allowed: el.innerText});
  for (const el of document.querySelectorAll('body *')) {
    if (!shown(el)) continue;
    for (const name of ['aria-label', 'aria-valuetext', 'title', 'placeholder', 'alt']) {
      const value = el.getAttribute(name);
      if (value) texts.push(value);
    }
  }
  return texts;
}"""


def jargon(page, allowed: str = "[data-results-list]") -> list[str]:
    """The forbidden words on the page as it is now, one line each ("logMAR: '... 0.24 logMAR ...'").
    Inside `allowed` (the shared results) only the Snellen fraction is allowed, nothing else."""
    found = []
    texts = page.evaluate(_TEXTS, allowed)
    allowed_texts = [t["allowed"] for t in texts if isinstance(t, dict)]
    plain = [t for t in texts if isinstance(t, str)]
    for text in plain:
        for allowed_text in allowed_texts:
            text = text.replace(allowed_text, " ")
        for name, pattern in FORBIDDEN.items():
            for match in pattern.finditer(text):
                found.append(f"{name}: {text[max(0, match.start() - 40) : match.end() + 40]!r}")
    for text in allowed_texts:
        for name, pattern in FORBIDDEN.items():
            if name == "Snellen fraction":
                continue
            for match in pattern.finditer(text):
                found.append(f"{name} (in the results): {text[max(0, match.start() - 40) : match.end() + 40]!r}")
    return found


_FIT = """(selector) => {
  const root = document.scrollingElement;
  const problems = [];
  if (root.scrollHeight > window.innerHeight + 1) problems.push(`page ${root.scrollHeight} tall in a ${window.innerHeight} window`);
  if (root.scrollWidth > window.innerWidth + 1) problems.push(`page ${root.scrollWidth} wide in a ${window.innerWidth} window`);
  const main = document.querySelector(selector);
  if (!main) problems.push(`no main button (${selector})`);
  else {
    const box = main.getBoundingClientRect();
    if (box.top < 0 || box.bottom > window.innerHeight || box.left < 0 || box.right > window.innerWidth || !box.width)
      problems.push(`main button "${main.textContent.trim()}" at ${Math.round(box.top)}..${Math.round(box.bottom)} not in view`);
  }
  return problems;
}"""


def fit_problems(page, main_button: str) -> list[str]:
    """Why the step does not fit the window without scrolling, with `main_button` in view ([] if it does)."""
    return page.evaluate(_FIT, main_button)
