"""The CVM report: monthly customer-equity figures, charts and one self-contained HTML file.

    engine.report.spend     the optional marketing-spend file (acquisition and retention cost)
    engine.report.equity    the monthly figures (pure functions on the loaded transactions)
    engine.report.charts    hand-written SVG charts (no JavaScript, no network)
    engine.report.sections  value tiers, lifecycle stages and the latest run, for the report
    engine.report.html      the HTML page (a sandboxed Jinja2 template with inline CSS)

The ``report:`` section of cvm.yaml is declared in ``engine.project.report_settings``.
"""
