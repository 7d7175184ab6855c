"""``python -m tests.golden``: regenerate ``tests/golden/fingerprints.json`` (see the package)."""

from __future__ import annotations

import sys

from tests.golden import main

sys.exit(main())
