"""Relighting: virtual lights, normals estimated from the frame (or supplied), shading and the gain on the plate."""
