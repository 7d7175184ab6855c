"""``cvm serve``: next best actions, profiles, events and outcomes over HTTP, from the latest
run and the same policies, for call-centre agents and other systems.

See README.md beside this file for what comes in, what goes out and what it must not import.
"""
