"""The seeded monitor database (tests/support/monitor_seed.py) for these tests."""

from tests.support.monitor_seed import seeded  # noqa: F401  (a fixture)
