// The camera frame of the distance guard (/test/camera, in an <iframe allow="camera"> of the patient's
// display; docs/security.md, "Browser-side protections"). The face landmark model needs eval and
// WebAssembly, which only this frame's policy allows, so the display itself keeps the strict one. The
// frame opens the camera, shows the patient their picture, runs the model on every frame it can and
// posts the parent numbers only: its status, then each frame's eye spacing in px (null: no face).
// No picture leaves this frame.
import { eyeSpacingPx, loadFaceMesh } from "./face-landmarks.js";

const CAMERA = { audio: false, video: { width: { ideal: 1280 }, height: { ideal: 720 } } };
const video = document.querySelector("[data-face-video]");

/** To the display that framed this page (same origin only); `frame`: the page opened on its own. */
function post(message) {
  document.body.dataset.faceStatus = message.status ?? document.body.dataset.faceStatus ?? "";
  if (window.parent !== window) window.parent.postMessage({ visus: "face", ...message }, location.origin);
}

async function start() {
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia(CAMERA);
  } catch (error) {
    return post({ kind: "status", status: error?.name === "NotAllowedError" ? "refused" : "unavailable" });
  }
  let mesh;
  try {
    video.srcObject = stream;
    await video.play();
    mesh = await loadFaceMesh();
  } catch (error) {
    console.warn("distance guard:", error);
    for (const track of stream.getTracks()) track.stop();
    return post({ kind: "status", status: "failed" });
  }
  mesh.onResults((results) => {
    const landmarks = results.multiFaceLandmarks?.[0];
    const spacing = landmarks ? eyeSpacingPx(landmarks, video.videoWidth, video.videoHeight) : null;
    post({ kind: "frame", eye_spacing_px: spacing });
  });
  post({ kind: "status", status: "allowed" });
  // A timer, not requestAnimationFrame: the frame is out of sight (display: none) while letters are
  // shown, and the model's own time per frame paces the loop.
  for (;;) {
    if (video.readyState >= 2) {
      try {
        await mesh.send({ image: video });
      } catch (error) {
        console.warn("distance guard:", error);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 15));
  }
}

start();
