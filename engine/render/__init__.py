"""Rendering: campaign briefs from templates/, in a sandboxed Jinja2 environment.

See README.md in this folder: what comes in, what goes out, what it must not import.
"""
