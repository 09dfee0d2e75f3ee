"""Frame fill and retime: find damaged frames, plan timesteps, interpolate plates with RIFE."""
