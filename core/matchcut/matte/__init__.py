"""Background replacement: screen keying, person mattes, despill, foreground decontamination and the comp."""

from matchcut.matte.composite import composite, estimate_foreground, light_wrap, match_foreground, premultiply
from matchcut.matte.despill import despill
from matchcut.matte.fit import FITS, fit_image
from matchcut.matte.keying import detect_screen, estimate_screen_color, key_screen
from matchcut.matte.person import REFINE, raw_person_matte, refine_matte, temporal_smooth
from matchcut.matte.settings import MODES, choose_mode

__all__ = ["FITS", "MODES", "REFINE", "choose_mode", "composite", "despill", "detect_screen", "estimate_foreground",
           "estimate_screen_color", "fit_image", "key_screen", "light_wrap", "match_foreground", "premultiply",
           "raw_person_matte", "refine_matte", "temporal_smooth"]
