"""Root of the test suite: the shared fixtures live in `cityhealth.testing`."""

pytest_plugins = ["cityhealth.testing"]
