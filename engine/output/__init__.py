"""Writing files safely: the output folder's ownership, atomic commits, CSV/Parquet writers.

See README.md in this folder: what comes in, what goes out, what it must not import.
"""
