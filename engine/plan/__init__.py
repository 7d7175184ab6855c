"""Dry-run of a change: the same pipeline on two versions of the project, compared.

See README.md in this folder: what comes in, what goes out, what it must not import.
"""
