"""Pure-Python calibration: screen scale, viewing distance, optotype size, what a screen can draw.

No Flask here. Every public function refuses bad input with CalibrationError (a ValueError) whose
message says what to do. Sources are named at the top of each module.
"""

from calibration.capability import (
    DRAWN_SIZE_TOLERANCE,
    ISO10938_SIZE_TOLERANCE,
    MIN_STROKE_DEVICE_PX,
    DrawnCheck,
    MeasurableRange,
    check_drawn,
    css_px_size_changed,
    measurable_range,
    min_height_device_px,
    nearest_distance_mm_for_range,
    stimulus_extent_in_heights,
)
from calibration.distance import (
    ViewingDistance,
    distance_from_blind_spot,
    distance_from_mirror,
    distance_from_tape,
)
from calibration.errors import CalibrationError
from calibration.screen import (
    ID1_CARD_HEIGHT_MM,
    ID1_CARD_WIDTH_MM,
    ScreenScale,
    css_px_per_mm_from_card,
    css_px_per_mm_from_ruler,
    device_px_per_mm,
    screen_scale,
)
from calibration.size import (
    css_px_to_device_px,
    css_px_to_mm,
    device_px_to_css_px,
    logmar_from_height_css_px,
    logmar_from_height_mm,
    mm_to_css_px,
    optotype_height_css_px,
    optotype_height_mm,
    stroke_mm,
)

__all__ = [
    "CalibrationError",
    "DRAWN_SIZE_TOLERANCE",
    "DrawnCheck",
    "ID1_CARD_HEIGHT_MM",
    "ID1_CARD_WIDTH_MM",
    "ISO10938_SIZE_TOLERANCE",
    "MIN_STROKE_DEVICE_PX",
    "MeasurableRange",
    "ScreenScale",
    "ViewingDistance",
    "check_drawn",
    "css_px_per_mm_from_card",
    "css_px_per_mm_from_ruler",
    "css_px_size_changed",
    "css_px_to_device_px",
    "css_px_to_mm",
    "device_px_per_mm",
    "device_px_to_css_px",
    "distance_from_blind_spot",
    "distance_from_mirror",
    "distance_from_tape",
    "logmar_from_height_css_px",
    "logmar_from_height_mm",
    "measurable_range",
    "min_height_device_px",
    "mm_to_css_px",
    "nearest_distance_mm_for_range",
    "optotype_height_css_px",
    "optotype_height_mm",
    "screen_scale",
    "stimulus_extent_in_heights",
    "stroke_mm",
]
