"""Background replacement: screen keying against a screen model, person mattes, despill, foreground
decontamination and the comp."""

from matchcut.matte.composite import composite, estimate_foreground, light_wrap, match_foreground, premultiply
from matchcut.matte.despill import despill
from matchcut.matte.fit import FITS, fit_image
from matchcut.matte.keying import detect_screen, estimate_screen_color, key_screen, screen_model
from matchcut.matte.person import REFINE, raw_person_matte, refine_matte, temporal_smooth
from matchcut.matte.screen import ScreenModel, frame_model, key_with_model, steady_plate
from matchcut.matte.settings import MODES, choose_mode

__all__ = ["FITS", "MODES", "REFINE", "ScreenModel", "choose_mode", "composite", "despill", "detect_screen",
           "estimate_foreground", "estimate_screen_color", "fit_image", "frame_model", "key_screen", "key_with_model",
           "light_wrap", "match_foreground", "premultiply", "raw_person_matte", "refine_matte", "screen_model",
           "steady_plate", "temporal_smooth"]
