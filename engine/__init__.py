"""CVM Engine: customer value management decisions from a transaction export.

The package reads as the pipeline it runs:

    load -> value -> lifecycle -> decide -> allocate -> render

``engine.load`` reads and checks transactions, ``engine.features`` and ``engine.value`` build the
customer value table, later stages classify, decide and allocate. ``engine.cli`` is a thin Typer
layer over these modules.
"""

from __future__ import annotations

__version__ = "0.1.0"
