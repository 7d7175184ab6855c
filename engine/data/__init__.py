"""Loading data: the transactions and customers files (CSV, Parquet) into typed columns.

See README.md in this folder: what comes in, what goes out, what it must not import.
"""
