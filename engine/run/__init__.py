"""The main job: value -> stages -> decisions -> allocation -> briefs, and the run folder.

See README.md in this folder: what comes in, what goes out, what it must not import.
"""
