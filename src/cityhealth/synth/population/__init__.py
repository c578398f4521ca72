"""The synthetic population of the city: who lives where, with names, ID history, BHYT cards
and guardians, generated from published figures and loaded in bulk.

Public: `service.generate_population(...)` (what `cityhealth synth population` runs),
`generator.PopulationGenerator` (the rows, without a database write), `legacy.COLUMNS`.
How it works and what it approximates: README.md beside this file.
"""
