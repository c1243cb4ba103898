"""Importers: registry records turned into draft trial files.

``matcher.importers.ctgov`` reads ClinicalTrials.gov API v2 records (``matcher import ctgov``).
The pieces it is built of are independent of the registry: ``text`` splits eligibility text into
numbered items, ``recognise`` proposes rules for the few kinds of item it is sure of, and
``yaml_out`` writes the draft so that the same record always gives the same bytes.
"""
