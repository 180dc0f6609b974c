// What cannot be taken back asks first: a form or button with data-confirm="<the question>" goes
// ahead only when the clinician answers OK. Loaded on every page (base.html); the live view asks
// through `confirmed` for its socket controls.

/** True when `node` has no question, or the clinician said OK to it. */
export function confirmed(node) {
  const question = node?.dataset?.confirm;
  return !question || window.confirm(question);
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && !confirmed(form)) event.preventDefault();
});
