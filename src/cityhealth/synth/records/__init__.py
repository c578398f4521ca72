"""Synthetic clinical records: the FHIR history of the registry's persons (`synth records`).

`loader.load_records` writes them; `generator.RecordsGenerator` makes them (see README.md)."""
