// A small observable store: one plain object of state, a "change" event on every update.
// Pages render from the store, never from socket payloads directly, so a reconnect that
// re-sends `state` re-renders everything (modern-todomvc-vanillajs pattern).
export class Store extends EventTarget {
  constructor(initial = {}) {
    super();
    this.state = { ...initial };
  }

  get(key) {
    return this.state[key];
  }

  /** Merge `patch` into the state and announce which keys changed. */
  update(patch) {
    const changed = Object.keys(patch).filter((key) => this.state[key] !== patch[key]);
    Object.assign(this.state, patch);
    if (changed.length) {
      this.dispatchEvent(new CustomEvent("change", { detail: { changed, state: this.state } }));
    }
  }
}
