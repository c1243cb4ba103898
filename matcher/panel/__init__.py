"""Panel screening: a whole panel in (a FHIR Bulk export, NDJSON, patient files, JSONL of
profiles), verdicts, a long criterion table, attrition funnels and missing facts out.

    reading    inputs -> one patient at a time, grouped on disk, mapped by matcher.patient.fhir
    batch      the batch engine protocol (patients in, an outcome matrix out, explanations on
               demand) and the row engine that implements it over matcher.check
    columnar   the columnar engine: fact columns, leaf rules as numpy predicates (numpy)
    screen     batches -> engine -> sinks (tables on disk, the tally), worker processes
    attrition  funnels per trial in criterion order, outcome counts, missing facts
    tables     CSV / JSON Lines / Parquet writers

Only the standard library is needed for CSV and JSON Lines; Parquet, Arrow tables and the
progress bar come with the ``panel`` extra and are imported when used.
"""
