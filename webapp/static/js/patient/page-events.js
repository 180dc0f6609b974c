// Reports what can spoil a calibration or a trial: the tab hidden, full screen left, the window
// resized, a zoom or a move to another monitor (devicePixelRatio changes; docs/measurement.md §4),
// a pinch zoom (visualViewport.scale changes).
// The server decides what each means (pause, re-calibrate); the page only reports.

function viewport() {
  return [Math.round(window.innerWidth), Math.round(window.innerHeight)];
}

export function watchPageEvents(report) {
  document.addEventListener("visibilitychange", () => {
    report(document.visibilityState === "hidden" ? "hidden" : "visible", {});
  });

  document.addEventListener("fullscreenchange", () => {
    report(document.fullscreenElement ? "fullscreen_enter" : "fullscreen_exit", {
      device_pixel_ratio: window.devicePixelRatio, viewport_css_px: viewport(),
    });
  });

  let resizeTimer = 0;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      report("resize", { device_pixel_ratio: window.devicePixelRatio, viewport_css_px: viewport() });
    }, 250);
  });

  // A media query for the current resolution stops matching when the ratio changes; re-arm it each
  // time. A slow poll backs it up: not every browser (nor every monitor switch) fires the change.
  let lastRatio = window.devicePixelRatio;
  const ratioChanged = () => {
    if (window.devicePixelRatio === lastRatio) return;
    lastRatio = window.devicePixelRatio;
    report("zoom", { device_pixel_ratio: window.devicePixelRatio, viewport_css_px: viewport() });
  };
  const watchRatio = () => {
    const query = window.matchMedia(`(resolution: ${window.devicePixelRatio}dppx)`);
    query.addEventListener("change", () => {
      ratioChanged();
      watchRatio();
    }, { once: true });
  };
  watchRatio();
  setInterval(ratioChanged, 1000);

  // Pinch zoom leaves devicePixelRatio alone but magnifies the page: visualViewport.scale is the
  // size of a CSS px on screen relative to the layout (CSSOM View). Any change of it is a zoom.
  // Its `resize` also fires when only the visible height changes (an on-screen keyboard, a
  // browser bar): those keep the scale and are not reported here.
  const view = window.visualViewport;
  if (view) {
    let lastScale = view.scale;
    view.addEventListener("resize", () => {
      if (view.scale === lastScale) return;
      lastScale = view.scale;
      report("zoom", {
        device_pixel_ratio: window.devicePixelRatio, viewport_css_px: viewport(), visual_viewport_scale: view.scale,
      });
    });
  }
}
