"""The monitor's SQL: aggregates over the execution tables, written once for SQLite and PostgreSQL.

One module per question, each a set of functions taking an open SQLAlchemy `Connection` and plain
parameters and returning rows or plain values; `dialect.py` holds what the two databases say
differently, `times.py` how timestamps are stored. The figures themselves (percentile ranks, rates,
shares, the shapes the app shows) are computed by `flowdesk/services/monitoring/`, which calls these.
"""
