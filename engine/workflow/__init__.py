"""The marketer's and the analyst's workflow (issue 17): policy tests (``cvm test``), audience
sizes, project scaffolding (``cvm init``), machine-readable output and terminal progress."""
