"""What every side of matcher shares and nothing of matcher's own: diagnostics and errors, the
located reading of YAML/JSON text, dates and durations, code systems and units, the outcome
vocabulary with its three-valued logic, the shared patient/criteria terms, and the rewording of
validation errors. It imports nothing else of matcher."""
