// The face landmark model and the one measurement the distance guard takes from it (docs/measurement.md,
// "Distance guard"). Loaded only inside the camera frame (/test/camera, face-frame.js), whose own policy
// allows what the model needs (docs/security.md), and by bench/distance_guard.py.
const FACE_MESH_BASE = new URL("../vendor/face_mesh/", import.meta.url).href;
// Face-mesh landmarks of each eye's two corners (not the iris, which moves when the eyes converge).
const EYE_CORNERS = [[33, 133], [362, 263]];

/** The spacing of the two eyes' centres (each the midpoint of its corners), in frame px. */
export function eyeSpacingPx(landmarks, widthPx, heightPx) {
  const [a, b] = EYE_CORNERS.map(([i, j]) => [
    ((landmarks[i].x + landmarks[j].x) / 2) * widthPx,
    ((landmarks[i].y + landmarks[j].y) / 2) * heightPx,
  ]);
  return Math.hypot(a[0] - b[0], a[1] - b[1]);
}

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.onload = resolve;
    script.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.append(script);
  });
}

/** The face landmark model, from this server's vendored files (loaded on first use only). */
export async function loadFaceMesh() {
  if (!window.FaceMesh) await loadScript(`${FACE_MESH_BASE}face_mesh.js`);
  const mesh = new window.FaceMesh({ locateFile: (file) => `${FACE_MESH_BASE}${file}` });
  mesh.setOptions({ maxNumFaces: 1, refineLandmarks: false, minDetectionConfidence: 0.5, minTrackingConfidence: 0.5 });
  await mesh.initialize();
  return mesh;
}
