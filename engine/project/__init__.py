"""Reading the project: cvm.yaml, value tiers, rules, segments, policies, channels and campaigns.

See README.md in this folder: what comes in, what goes out, what it must not import.
"""
