"""The policy stage: lifecycle stages, segments and decisions, decided by durable-rules.

See README.md in this folder: what comes in, what goes out, what it must not import.
"""
