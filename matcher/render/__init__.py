"""Outputs for people: results, trials and concept sets as text (``text``). JSON comes from the
results' ``as_dict``. Rendering never runs an engine."""
