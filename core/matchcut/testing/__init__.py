"""Known answers for tests, `matchcut bench` and `make demo`: sample photos, synthetic footage, the metrics.

Nothing here runs in a tool. Modules (each imported on its own; importing this package imports none of them):
photos (the one scikit-image photo loader, in an explicit colour space), metrics (PSNR, SSIM, matte errors,
region IoU), mattes (screen shots and person shots with a known alpha), planted (continuity pairs with
planted changes), sequences (a photo in known motion, and the retime quality run), baselines (the 50/50
blend and DIS-flow warp RIFE is measured against), keying_set (Blender-rendered subjects with their true alpha
over screens lit the ways sets are: the screen-keying quality run; its Blender script blender_subjects, its
screens and camera screens, the peers it is measured against keyers), takes (continuity takes with depth and
their truth: Blender sets from two camera positions, the motorcycle stereo pair, the planted pairs, in a tuning
and a held-out half; its Blender script blender_takes), fixes (footage with a known correction on every frame: a
local grade in a moving matte, a softening removed, markers painted out; the learn quality run's shots).
"""
