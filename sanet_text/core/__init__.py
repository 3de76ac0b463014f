"""The bottom layer: errors, paths, atomic writes, typed configs, the user cache, lazy imports, sysinfo."""
