// Reports what can spoil a calibration or a trial: the tab hidden, full screen left, the window
// resized, a zoom or a move to another monitor (devicePixelRatio changes; docs/measurement.md §4).
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
}
