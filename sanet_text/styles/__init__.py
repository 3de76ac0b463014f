"""Style sources: each turns a user's style (image, text, diffusion) into SANet style features."""
