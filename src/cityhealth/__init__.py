"""cityhealth: a city's digital health platform, one Django app per domain.

See docs/architecture.md.
"""
