"""Administrative units: Việt Nam's provinces (after 01/07/2025), the 63 former province codes
that personal ID numbers still carry, and a city's communes and wards with their centroids.

Public: `services.load_administrative_units`, `selectors.list_provinces`, `selectors.list_wards`,
`selectors.get_ward`, `selectors.split_formed_from`.
Command: `cityhealth load_administrative_units [--province 01]`.
"""
