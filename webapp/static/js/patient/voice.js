// Optional spoken prompts (the browser's own speech synthesis) and a soft sound when a new letter
// appears (WebAudio), each switched on or off on this device and remembered here. Off, or not
// supported by the browser, changes nothing else: the pages never wait for them.
import { t, language } from "../i18n.js";

const KEY = "visus-voice";

export class Voice {
  constructor() {
    let saved = {};
    try {
      saved = JSON.parse(localStorage.getItem(KEY) || "{}");
    } catch {
      saved = {};
    }
    this.speech = Boolean(saved.speech);
    this.sound = Boolean(saved.sound);
    this.audio = null;
    this.lastSpoken = null;
  }

  get speechSupported() {
    return "speechSynthesis" in window && "SpeechSynthesisUtterance" in window;
  }

  get soundSupported() {
    return "AudioContext" in window || "webkitAudioContext" in window;
  }

  save() {
    try {
      localStorage.setItem(KEY, JSON.stringify({ speech: this.speech, sound: this.sound }));
    } catch {
      // private mode: the choice lasts for this page only
    }
  }

  /**
   * Bind two checkboxes (speech, sound) to this device's choice; unsupported ones are disabled with
   * a note in their label's `data-voice-note`.
   */
  bind(speechBox, soundBox) {
    for (const [box, name, supported] of [[speechBox, "speech", this.speechSupported], [soundBox, "sound", this.soundSupported]]) {
      if (!box) continue;
      box.checked = supported && this[name];
      box.disabled = !supported;
      const note = box.closest("label")?.querySelector("[data-voice-note]");
      if (note && !supported) note.textContent = t(" (this browser cannot)");
      box.addEventListener("change", () => {
        this[name] = box.checked;
        this.save();
        if (name === "sound" && box.checked) this.chime(); // a user gesture: lets the audio start
        if (name === "speech" && !box.checked) window.speechSynthesis?.cancel();
      });
    }
  }

  /** Say `text` once (the same text again is not repeated until something else was said). */
  say(text) {
    if (!this.speech || !this.speechSupported || !text || text === this.lastSpoken) return;
    this.lastSpoken = text;
    try {
      window.speechSynthesis.cancel();
      const utterance = new SpeechSynthesisUtterance(text);
      utterance.rate = 0.9;
      utterance.lang = language; // the page's language, so the words are read with its voice
      window.speechSynthesis.speak(utterance);
    } catch {
      // no voice installed: nothing else changes
    }
  }

  /** A soft, short tone (about 0.15 s, quiet) when a new letter is shown. */
  chime() {
    if (!this.sound || !this.soundSupported) return;
    try {
      const Context = window.AudioContext || window.webkitAudioContext;
      this.audio = this.audio || new Context();
      const now = this.audio.currentTime;
      const tone = this.audio.createOscillator();
      const gain = this.audio.createGain();
      tone.type = "sine";
      tone.frequency.value = 660;
      gain.gain.setValueAtTime(0.0001, now);
      gain.gain.exponentialRampToValueAtTime(0.08, now + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + 0.15);
      tone.connect(gain).connect(this.audio.destination);
      tone.start(now);
      tone.stop(now + 0.16);
    } catch {
      // audio blocked: nothing else changes
    }
  }
}
