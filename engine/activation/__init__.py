"""Activation: channel allocation under budgets and capacities, holdouts, the action list.

See README.md in this folder: what comes in, what goes out, what it must not import.
"""
