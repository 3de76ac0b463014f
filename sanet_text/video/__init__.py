"""Clips: reading and re-encoding, a clip through the Stylizer, flicker-free frames."""
