// The patient's language in the ES modules: the same catalog as the server's templates and words
// (webapp/i18n.py), fetched once from the address the page names (<meta name="visus-catalog">). The
// message is its English text; `{name}` placeholders are filled from `params`.
// Every patient-facing string goes through t(); tests/test_translations.py checks that each is in
// every catalog, and that no patient module puts English on the page without it.

const meta = document.querySelector('meta[name="visus-catalog"]');
let catalog = {};
if (meta) {
  try {
    const response = await fetch(meta.content, { credentials: "same-origin" });
    if (response.ok) catalog = await response.json();
  } catch {
    // Unreachable catalog: the patient reads the English words rather than nothing.
  }
}

/** The page's language ("en", "es", "de", "ar"), as the server set it on <html lang>. */
export const language = document.documentElement.lang || "en";

/** `message` (the English text) in the page's language, with `{name}` placeholders filled in. */
export function t(message, params = {}) {
  const text = catalog[message] || message;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}
