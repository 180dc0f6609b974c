"""Pure-Python measurement core: optotype geometry, notation, procedures, scoring, simulation."""
