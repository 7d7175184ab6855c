"""The value stage: purchase occasions, features, retention, formulas, tiers, CLV models.

See README.md in this folder: what comes in, what goes out, what it must not import.
"""
