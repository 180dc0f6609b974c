// The video and voice call of a live test: browser WebRTC, signaling over the page's Socket.IO
// connection (docs/protocol.md, "The video call"). The clinician's page makes every offer, one
// RTCPeerConnection per patient device, each named by a fresh peer_id; a device only answers. A
// device that (re)joins — first time, after a reload, after a network drop — says so with
// `call_join` and the clinician's page offers again, so the call comes back without anyone acting.
// Nothing is recorded: the streams go from camera to screen.
import { t } from "./i18n.js";
import { find, setText } from "./dom.js";
import { request } from "./socket.js";

const DEVICE_MEDIA = { audio: true, video: { width: { ideal: 1280 }, height: { ideal: 720 } } };
// After ICE reports "disconnected", how long to wait for it to recover by itself before offering anew.
const RECOVER_AFTER_MS = 4000;

function newPeerId() {
  return Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Run async steps one after the other (offers, answers and candidates must not overtake each other). */
class Queue {
  constructor() { this.tail = Promise.resolve(); }
  push(step) {
    this.tail = this.tail.then(step).catch((error) => console.warn("call:", error));
    return this.tail;
  }
}

/** getUserMedia; without a camera, the microphone alone. Returns {stream, camera}. */
async function openMedia(constraints) {
  try {
    return { stream: await navigator.mediaDevices.getUserMedia(constraints), camera: constraints.video ? "allowed" : "unavailable" };
  } catch (error) {
    if (error && error.name === "NotAllowedError") return { stream: null, camera: "refused" };
    if (!constraints.video) return { stream: null, camera: "unavailable" };
    try {
      return { stream: await navigator.mediaDevices.getUserMedia({ audio: true }), camera: "unavailable" };
    } catch {
      return { stream: null, camera: "unavailable" };
    }
  }
}

function setTracks(stream, kind, enabled) {
  if (stream) for (const track of stream.getTracks()) if (track.kind === kind) track.enabled = enabled;
}

function hasTrack(stream, kind) {
  return Boolean(stream && stream.getTracks().some((track) => track.kind === kind));
}

// ------------------------------------------------------------------------------------ clinician

const JOIN_TEXT = {
  refused: "The patient did not allow the camera and microphone. The test goes on; you do not see or hear them.",
  unavailable: "The patient's camera could not be used; you hear them only.",
};

/** The clinician's side, in the live view's call panel (data-call-panel). */
export class ClinicianCall {
  constructor(socket, sessionId) {
    this.socket = socket;
    this.sessionId = sessionId;
    this.active = false;
    this.iceServers = [];
    this.policy = "all";
    this.local = null; // MediaStream or null
    this.peers = new Map(); // device -> {pc, peerId, stream, queue, timer}
    this.devices = { display: false, pad: false };
    this.media = { audio: true, video: true, hidden: false };
    this.ready = Promise.resolve();
    this.panel = find("call-panel");
    this.bind();
    this.render();
  }

  bind() {
    const on = (action, fn) => find("call-action", action, this.panel)?.addEventListener("click", fn);
    on("start", () => this.start(find("call-use-camera", undefined, this.panel).checked));
    on("end", () => this.end());
    on("mute", () => this.switchMedia({ audio: !this.media.audio }));
    on("camera", () => this.switchMedia({ video: !this.media.video }));
    on("hide", () => this.switchMedia({ hidden: !this.media.hidden }));
    on("enlarge", () => {
      const box = find("call-remote-box", undefined, this.panel);
      box.dataset.large = box.dataset.large === "true" ? "false" : "true";
      this.render();
    });
    this.socket.on("call_state", (state) => {
      // Started from another tab of this clinician (this tab's own start is under way already).
      if (state.active && !this.active && !this.starting) this.start(state.clinician_video);
      if (!state.active && this.active) this.stop("The call has ended.");
    });
    this.socket.on("call_join", (joined) => this.onJoin(joined));
    this.socket.on("call_reply", (reply) => this.onReply(reply));
    this.socket.on("call_device_media", ({ device, audio, video }) => {
      const peer = this.peers.get(device);
      if (peer) peer.media = { audio, video };
      this.render();
    });
    this.socket.on("device_status", ({ display_connected: display, pad_connected: pad }) => {
      this.devices = { display, pad };
      for (const [device, connected] of Object.entries(this.devices)) if (!connected) this.closePeer(device);
      this.render();
    });
  }

  /** After every `watch` (connect, reconnect, reload): the call goes on if it was on. */
  watched(ack) {
    if (ack && ack.snapshot && ack.snapshot.devices) this.devices = { ...ack.snapshot.devices };
    if (ack && ack.call && ack.call.active) this.start(ack.call.clinician_video);
    else if (this.active) this.stop("The call has ended.");
  }

  setStatus(text) { setText(find("call-status", undefined, this.panel), text); }

  async start(wantVideo) {
    this.starting = true;
    const ack = await request(this.socket, "call_start", { session_id: this.sessionId, video: Boolean(wantVideo) });
    this.starting = false;
    if (!ack.ok) return this.setStatus(ack.message);
    this.iceServers = ack.call.ice_servers || [];
    this.policy = ack.call.ice_transport_policy || "all";
    if (this.active) return;
    this.active = true;
    this.setStatus("Calling the patient…");
    // Offers wait for the camera and microphone (onJoin), so they carry them.
    this.ready = openMedia({ audio: true, video: Boolean(wantVideo) }).then(({ stream }) => {
      this.local = stream;
      if (!stream) this.setStatus("Your camera and microphone could not be used; you can still see and hear the patient.");
      this.media = { audio: hasTrack(stream, "audio"), video: hasTrack(stream, "video"), hidden: false };
      find("call-local", undefined, this.panel).srcObject = stream;
      this.render();
    });
    this.render();
    // The devices answer this call's `call_state` with `call_join`; then the offers go out.
  }

  async end() {
    const ack = await request(this.socket, "call_end", { session_id: this.sessionId });
    if (!ack.ok) return this.setStatus(ack.message);
    this.stop("You ended the call.");
  }

  stop(message) {
    this.active = false;
    for (const device of [...this.peers.keys()]) this.closePeer(device);
    if (this.local) for (const track of this.local.getTracks()) track.stop();
    this.local = null;
    this.ready = Promise.resolve();
    find("call-local", undefined, this.panel).srcObject = null;
    this.setStatus(message);
    this.render();
  }

  switchMedia(change) {
    Object.assign(this.media, change);
    setTracks(this.local, "audio", this.media.audio);
    setTracks(this.local, "video", this.media.video && !this.media.hidden);
    request(this.socket, "call_media", { session_id: this.sessionId, ...this.media });
    this.render();
  }

  async onJoin({ device, camera }) {
    if (!this.active) return;
    await this.ready;
    if (!this.active) return;
    this.setStatus(JOIN_TEXT[camera] || "The patient is in the call.");
    this.offer(device);
  }

  closePeer(device) {
    const peer = this.peers.get(device);
    if (!peer) return;
    clearTimeout(peer.timer);
    peer.pc.close();
    this.peers.delete(device);
    const video = find("call-remote", device, this.panel);
    if (video) video.srcObject = null;
    if (device === "pad") this.routeSound();
  }

  /** A new connection to `device`: a fresh offer (the device drops any older one). */
  offer(device) {
    this.closePeer(device);
    const pc = new RTCPeerConnection({ iceServers: this.iceServers, iceTransportPolicy: this.policy });
    const peer = { pc, peerId: newPeerId(), stream: new MediaStream(), queue: new Queue(), timer: null, media: null };
    this.peers.set(device, peer);
    const tracks = this.local ? this.local.getTracks() : [];
    for (const track of tracks) pc.addTrack(track, this.local);
    // Always ask for the device's audio and (the display's) video, even when sending none.
    if (!tracks.some((t) => t.kind === "audio")) pc.addTransceiver("audio", { direction: "recvonly" });
    if (!tracks.some((t) => t.kind === "video")) pc.addTransceiver("video", { direction: "recvonly" });
    pc.onconnectionstatechange = () => this.routeSound();
    pc.ontrack = ({ track }) => {
      peer.stream.addTrack(track);
      const video = find("call-remote", device, this.panel);
      if (video && video.srcObject !== peer.stream) video.srcObject = peer.stream;
      this.render();
    };
    pc.onicecandidate = ({ candidate }) => {
      if (candidate) this.send(device, peer, { candidate: candidate.toJSON() });
    };
    pc.oniceconnectionstatechange = () => this.watchIce(device, peer);
    peer.queue.push(async () => {
      await pc.setLocalDescription(await pc.createOffer());
      await this.send(device, peer, { description: { type: "offer", sdp: pc.localDescription.sdp } });
    });
    this.render();
  }

  /**
   * One loudspeaker per room: while the pad is in the call with its microphone, the clinician's
   * voice goes to the pad only and the display's microphone is not played (no echo between the two
   * devices); when the pad leaves, back to the display.
   */
  routeSound() {
    const pad = this.peers.get("pad");
    const padTalks = Boolean(pad && pad.pc.connectionState === "connected" && pad.stream.getAudioTracks().length);
    const display = this.peers.get("display");
    const voice = this.local ? this.local.getAudioTracks()[0] || null : null;
    if (display) {
      for (const sender of display.pc.getSenders()) {
        if (sender.track ? sender.track.kind === "audio" : sender === display.audioSender) {
          display.audioSender = sender;
          const wanted = padTalks ? null : voice;
          if (sender.track !== wanted) sender.replaceTrack(wanted).catch(() => {});
        }
      }
    }
    const video = find("call-remote", "display", this.panel);
    if (video) video.muted = padTalks;
    this.panel.dataset.sound = padTalks ? "pad" : "display";
  }

  /** A network change the connection does not survive: offer again while the device is there. */
  watchIce(device, peer) {
    const state = peer.pc.iceConnectionState;
    clearTimeout(peer.timer);
    if (state === "failed") this.retry(device, peer);
    else if (state === "disconnected") peer.timer = setTimeout(() => this.retry(device, peer), RECOVER_AFTER_MS);
    this.render();
  }

  retry(device, peer) {
    if (this.active && this.peers.get(device) === peer && this.devices[device]) this.offer(device);
  }

  send(device, peer, message) {
    return request(this.socket, "call_signal", { session_id: this.sessionId, device, peer_id: peer.peerId, ...message });
  }

  onReply({ device, peer_id: peerId, description, candidate }) {
    const peer = this.peers.get(device);
    if (!peer || peer.peerId !== peerId) return; // an older connection's, or another tab's
    peer.queue.push(async () => {
      if (description) await peer.pc.setRemoteDescription(description);
      else if (candidate && candidate.candidate) await peer.pc.addIceCandidate(candidate);
    });
  }

  render() {
    const panel = this.panel;
    const display = this.peers.get("display");
    panel.dataset.active = String(this.active);
    find("call-action", "start", panel).hidden = this.active;
    find("call-use-camera-label", undefined, panel).hidden = this.active;
    for (const action of ["end", "mute", "camera", "hide"]) find("call-action", action, panel).hidden = !this.active;
    setText(find("call-action", "mute", panel), this.media.audio ? "Mute me" : "Unmute me");
    setText(find("call-action", "camera", panel), this.media.video ? "My camera off" : "My camera on");
    setText(find("call-action", "hide", panel), this.media.hidden ? "Show me to the patient" : "Hide me from the patient");
    find("call-action", "camera", panel).hidden = !this.active || !hasTrack(this.local, "video");
    find("call-action", "hide", panel).hidden = !this.active || !hasTrack(this.local, "video");
    const box = find("call-remote-box", undefined, panel);
    box.hidden = !this.active;
    setText(find("call-action", "enlarge", panel), box.dataset.large === "true" ? "Smaller" : "Enlarge");
    const parts = [];
    for (const [device, peer] of this.peers) {
      const name = device === "display" ? "test screen" : "answer pad";
      parts.push(`${name}: ${peer.pc.iceConnectionState}`);
      if (peer.media && !peer.media.audio) parts.push(`the patient muted the ${name}`);
      if (peer.media && !peer.media.video && device === "display") parts.push("the patient turned the camera off");
    }
    setText(find("call-peers", undefined, panel), parts.join(" · "));
    panel.dataset.displayConnection = display ? display.pc.iceConnectionState : "none";
  }
}

// ------------------------------------------------------------------------------------ patient

/**
 * A patient device's side: the display (camera and microphone) or the pad (microphone only). Asks
 * once, in plain words, before the browser asks; remembers the answer for this tab, so a reload
 * joins again without asking.
 */
export class DeviceCall {
  constructor(socket, device) {
    this.socket = socket;
    this.device = device;
    this.box = find("call-box");
    this.active = false;
    this.iceServers = [];
    this.policy = "all";
    this.local = null;
    this.camera = null; // "allowed" | "refused" | "unavailable" once decided
    this.peer = null; // {pc, peerId, queue}
    this.media = { audio: true, video: true };
    this.consentKey = `visus.call.${device}.${location.pathname}`;
    this.bind();
    this.render();
  }

  bind() {
    const on = (action, fn) => find("call-action", action, this.box)?.addEventListener("click", fn);
    on("allow", () => this.decide(true));
    on("refuse", () => this.decide(false));
    on("mute", () => this.switchMedia({ audio: !this.media.audio }));
    on("camera", () => this.switchMedia({ video: !this.media.video }));
    this.socket.on("call_state", (state) => this.onState(state));
    this.socket.on("call_signal", (signal) => this.onSignal(signal));
    this.socket.on("call_media", ({ video, hidden }) => {
      this.box.dataset.clinicianVideo = String(video && !hidden);
      this.render();
    });
    this.socket.on("disconnect", () => this.closePeer());
    // Never over the letters: the clinician's picture steps aside when a letter reaches its corner.
    const host = find("stimulus-host");
    if (host) {
      const check = () => this.avoid(host);
      new MutationObserver(check).observe(host, { childList: true, subtree: true, attributes: true });
      window.addEventListener("resize", check);
    }
  }

  /**
   * Never over the letters: the clinician's picture is hidden while it would cover any part of the
   * stimulus (letters and crowding bars), and if the rest of the box still would, only its buttons stay.
   */
  avoid(host) {
    const video = find("call-clinician-box", undefined, this.box);
    if (!video) return;
    video.dataset.overLetters = "false";
    this.box.dataset.overLetters = "false";
    const shapes = Array.from(host.querySelectorAll("svg"), (shape) => shape.getBoundingClientRect()).filter((b) => b.width > 0);
    const covers = (node) => {
      const a = node.getBoundingClientRect();
      return a.width > 0 && shapes.some((b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom);
    };
    if (covers(video)) video.dataset.overLetters = "true";
    if (covers(this.box)) this.box.dataset.overLetters = "true";
  }

  async onState(state) {
    this.active = state.active;
    if (!state.active) {
      this.closePeer();
      if (this.local) for (const track of this.local.getTracks()) track.stop();
      this.local = null;
      this.camera = null;
      this.render();
      return;
    }
    this.iceServers = state.ice_servers || this.iceServers;
    this.policy = state.ice_transport_policy || this.policy;
    if (this.camera === null) {
      const earlier = sessionStorage.getItem(this.consentKey);
      if (earlier === null) return this.render(); // ask first; decide() joins
      await this.openMedia(earlier === "yes");
    }
    this.join();
  }

  async decide(allowed) {
    sessionStorage.setItem(this.consentKey, allowed ? "yes" : "no");
    await this.openMedia(allowed);
    this.join();
  }

  async openMedia(allowed) {
    if (!allowed) {
      this.camera = "refused";
    } else {
      const { stream, camera } = await openMedia(this.device === "display" ? DEVICE_MEDIA : { audio: true, video: false });
      this.local = stream;
      this.camera = this.device === "pad" && stream ? "allowed" : camera;
      find("call-self", undefined, this.box).srcObject = stream;
    }
    this.media = { audio: hasTrack(this.local, "audio"), video: hasTrack(this.local, "video") };
    this.render();
  }

  join() {
    if (!this.active || this.camera === null) return;
    if (this.device === "pad" && !this.local) return this.render(); // the computer carries the sound
    this.render();
    request(this.socket, "call_join", { camera: this.camera, ...this.media });
  }

  switchMedia(change) {
    Object.assign(this.media, change);
    setTracks(this.local, "audio", this.media.audio);
    setTracks(this.local, "video", this.media.video);
    request(this.socket, "call_device_media", this.media);
    this.render();
  }

  closePeer() {
    if (this.peer) this.peer.pc.close();
    this.peer = null;
    find("call-clinician", undefined, this.box).srcObject = null;
  }

  onSignal({ peer_id: peerId, description, candidate }) {
    if (description && description.type === "offer") {
      this.closePeer(); // the clinician's page started a new connection
      this.peer = this.answerOffer(peerId, description);
      return;
    }
    const peer = this.peer;
    if (peer && peer.peerId === peerId && candidate && candidate.candidate) {
      peer.queue.push(() => peer.pc.addIceCandidate(candidate));
    }
  }

  answerOffer(peerId, offer) {
    const pc = new RTCPeerConnection({ iceServers: this.iceServers, iceTransportPolicy: this.policy });
    const peer = { pc, peerId, queue: new Queue() };
    const remote = new MediaStream();
    pc.ontrack = ({ track }) => {
      remote.addTrack(track);
      const video = find("call-clinician", undefined, this.box);
      if (video.srcObject !== remote) video.srcObject = remote;
      this.render();
    };
    pc.onicecandidate = ({ candidate }) => {
      if (candidate) request(this.socket, "call_reply", { peer_id: peerId, candidate: candidate.toJSON() });
    };
    pc.oniceconnectionstatechange = () => this.render();
    peer.queue.push(async () => {
      await pc.setRemoteDescription(offer);
      if (this.local) for (const track of this.local.getTracks()) pc.addTrack(track, this.local);
      await pc.setLocalDescription(await pc.createAnswer());
      await request(this.socket, "call_reply", { peer_id: peerId, description: { type: "answer", sdp: pc.localDescription.sdp } });
    });
    return peer;
  }

  render() {
    const box = this.box;
    box.hidden = !this.active;
    box.dataset.active = String(this.active);
    find("call-ask", undefined, box).hidden = !(this.active && this.camera === null);
    find("call-controls", undefined, box).hidden = !(this.active && this.local);
    setText(find("call-action", "mute", box), this.media.audio ? t("Mute") : t("Unmute"));
    const camera = find("call-action", "camera", box);
    if (camera) {
      camera.hidden = !hasTrack(this.local, "video");
      setText(camera, this.media.video ? t("Camera off") : t("Camera on"));
    }
    box.dataset.connection = this.peer ? this.peer.pc.iceConnectionState : "none";
    const note = this.device === "pad" ? (this.local ? t("You talk with your clinician through this phone.") : "")
      : this.camera === "refused" ? t("You are not sharing your camera or microphone. You can still hear your clinician.")
      : this.camera === "unavailable" ? t("Your camera could not be used. Your clinician can hear you.") : "";
    setText(find("call-note", undefined, box), note);
  }
}
