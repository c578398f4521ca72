"""The kernel every app shares; it imports no other app.

Public pieces:
- `errors`: `DomainError` and its kinds, each with a stable code and a message in Vietnamese
  and English.
- `identifiers`: parsers of the 12-digit personal ID, the CCCD QR string and the BHYT card code.
- `money`: `Vnd`, integer Vietnamese đồng.
- `clock`: `now()` and `today()`, which tests can set.
- `roles`: staff roles and the modules each may use.
- `text.fold_for_search`: diacritic-blind search text; `loading.LoadReport`: what a loader did.
- `audit`: the append-only, hash-chained audit log (`services.record_audit`, `audit verify`).
"""
