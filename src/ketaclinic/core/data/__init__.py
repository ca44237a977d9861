"""Clinical data files the core reads with importlib.resources (no I/O beyond package data)."""
