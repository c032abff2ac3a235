"""flowdesk's test suites (a package so that tests.support is importable)."""
