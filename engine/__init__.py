"""CVM Engine: customer value management decisions from a transaction export.

The package reads as the pipeline it runs, one subpackage per stage (imports flow down this
list, never up; ARCHITECTURE.md at the repository root draws it):

    project/     cvm.yaml, tiers, rules, segments, policies, channels, campaigns: checked records
    output/      writing files safely (ownership record, write beside then rename, CSV writer)
    data/        transactions and customers files -> typed columns     (data.load)
    value/       the customer value table: every column of customers.csv (value.score)
    policy/      lifecycle_stage, stage_rule, segments (policy.lifecycle); action, service level
                 and every column of decisions.csv (policy.decisions); one customer explained
                 (policy.explain)
    activation/  channel, allocation and holdout columns of actions.csv (activation.allocate,
                 activation.holdout); the action list's schema (activation.actions_schema)
    render/      briefs/*.md (render.briefs) in the template sandbox (render.sandbox)
    run/         the main job in memory (run.pipeline) and the run folder and manifest.json
                 (run.job)
    plan/        cvm plan: plan.md, plan.html, changes.csv (plan.dry_run, plan.render)
    report/      report.html (report.html), its figures (report.equity)
    commands/    one module per cvm subcommand; cli.py the Typer layer; api.py the Python API
"""

from __future__ import annotations

__version__ = "0.1.0"
