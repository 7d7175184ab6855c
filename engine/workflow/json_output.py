"""``--json``: the findings of validate, explain, plan, fit and score as one JSON document on
stdout, each described by a versioned JSON Schema in ``engine/schemas/output-<kind>.schema.json``.

Every document starts with ``kind`` (``cvm.validate``, ...) and ``schema_version``, the version
of that document's schema (``SCHEMA_VERSIONS``: each document has its own); the schemas allow no
unlisted field, so any change of a document's fields raises its version.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine.errors import Problem

# one version per document (README "Machine-readable output"); raised with its fields.
# validate 2: `strict`, and `valid` false when --strict fails on warnings; explain 2:
# contact_policies and expected_response (issue 13); fit 2: the mode and the holdout comparison
# (issue 15); explain 3: expected_response counts distinct customers, windows and the
# intention-to-treat baseline (review 14); explain 4: the model figures; fit 3: candidates of
# auto, holdout_spend always an object, retention_by_renewal a list (issue 15); fit 4:
# purchase_model is the value table's, as the terminal says (null without one; review 8b);
# explain 5: contact_policies.opted_out, the built-in opt-out rule (issue 13); score 2:
# customers_without_purchase, the customers left out (session 29's new user); score 3: refunds,
# netted and left out (session 31's audit); explain 8: allocation.reason null without an
# action, as the other fields (session 34's new user)
SCHEMA_VERSIONS = {"validate": 3, "explain": 8, "plan": 2, "fit": 4, "score": 3, "events": 1}
SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"
KINDS = ("validate", "explain", "plan", "fit", "score", "events")


def schema_path(kind: str) -> Path:
    return SCHEMAS / f"output-{kind}.schema.json"


def plain(value: Any) -> Any:
    """JSON-ready: NaN and NA become null, numpy and dates their plain forms."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, (dt.date, pd.Timestamp)):
        return None if value is pd.NaT else str(value)[:10]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    return str(value)


def document(kind: str, payload: dict[str, Any]) -> str:
    body = {"kind": f"cvm.{kind}", "schema_version": SCHEMA_VERSIONS[kind], **plain(payload)}
    text = json.dumps(body, indent=2, ensure_ascii=False, allow_nan=False)
    # JSON escapes C0 itself; DEL and C1 (\x9b starts a terminal escape) are escaped alike
    return _C1.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


_C1 = re.compile("[\x7f-\x9f]")


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [plain(r) for r in frame.astype(object).to_dict("records")]


def problem_dict(p: Problem) -> dict[str, Any]:
    return {"severity": p.severity, "file": p.file, "line": p.line, "column": p.column,
            "key": p.key, "message": p.message, "hint": p.hint}


def validate_json(problems: Sequence[Problem], audience: Any = None,
                  strict: bool = False, not_checked: Sequence[str] = (),
                  until: str | None = None) -> str:
    """``valid`` agrees with the exit code: false on an error, or on a warning under
    ``--strict``; ``not_checked``: what was left unchecked until the file ``until`` reads
    (the folders, while cvm.yaml has errors; the channels named, while the channels or
    campaigns file has)."""
    errors = sum(p.severity == "error" for p in problems)
    payload: dict[str, Any] = {
        "valid": errors == 0 and not (strict and problems), "strict": strict,
        "errors": errors, "warnings": len(problems) - errors,
        "problems": [problem_dict(p) for p in problems]}
    if audience is not None:
        payload["audience"] = audience.as_dict()
    if not_checked:
        payload["not_checked"] = list(not_checked)
        payload["not_checked_until"] = until
    return document("validate", payload)


def explain_json(why: Any, contact_policies: dict[str, Any] | None = None,
                 expected_response: dict[str, Any] | None = None,
                 allocation: dict[str, Any] | None = None) -> str:
    def check(c: Any) -> dict[str, Any]:
        return {"id": c.id, "matched": c.matched, "enabled": c.enabled, "why_not": c.why_not,
                "summary": c.summary, "location": c.location}

    def policy(p: Any) -> dict[str, Any] | None:
        return None if p is None else {"id": p.id, "priority": p.priority,
                                       "location": p.location}

    pol = why.action_policy
    return document("explain", {
        "customer_id": why.customer_id, "value": dict(why.value),
        "stage": why.stage, "stage_rule": why.stage_rule,
        "stage_rules": [check(c) for c in why.stage_rules],
        "segments": [check(c) for c in why.segments],
        "policies": [check(c) for c in why.policies],
        "decision": {"action": why.action, "reason": why.reason,
                     "action_policy": policy(pol),
                     "offer": pol.offer if pol is not None else None,
                     "channels": list(pol.channels) if pol is not None else [],
                     "campaign": pol.campaign if pol is not None else None,
                     "service_level": why.service_level,
                     "service_policy": policy(why.service_policy)},
        "contact_policies": contact_policies, "expected_response": expected_response,
        "model": why.model.as_dict() if why.model is not None else None,
        "allocation": allocation})


def plan_json(plan: Any) -> str:
    matrix = plan.actions_matrix
    return document("plan", {
        "baseline": plan.baseline.label, "proposed": plan.proposed.label,
        "history": plan.history, "changed": plan.changed, "totals": plan.totals,
        "definitions": [{"what": w, "change": c} for w, c in plan.definitions],
        "policies": records(plan.policies), "channels": records(plan.channels),
        "unserved": records(plan.unserved),
        "actions_matrix": {str(r): {str(c): int(matrix.loc[r, c]) for c in matrix.columns}
                           for r in matrix.index},
        "briefs": [{"file": f, "change": c} for f, c in plan.briefs],
        "cosmetic": list(plan.cosmetic), "sample": plan.sample})


def fit_json(payload: dict[str, Any]) -> str:
    return document("fit", payload)


def score_json(scored: Any, written: Sequence[str]) -> str:
    from engine.value.score import refund_figures, shown_totals

    t, rep, ret = scored.table, scored.report, scored.retention
    revenue, margin = shown_totals(scored)
    counts = t["value_tier"].astype(object).value_counts()
    return document("score", {
        "customers": len(t), "as_of": scored.as_of, "transactions": rep.file,
        "rows_read": rep.rows_read, "rows_used": rep.rows_used,
        "skipped": [{"reason": r, "rows": n} for r, n in rep.skipped()],
        "customers_without_purchase": rep.customers_refund_only,
        "refunds": refund_figures(rep),
        "revenue": revenue, "gross_margin": margin,
        "retention": {"overall": ret.overall, "segments": [
            {"name": s.name, "rate": s.rate, "pooled": s.pooled} for s in ret.segments]},
        "value_model": scored.model.describe(),
        "tiers": [{"name": n, "customers": int(counts.get(n, 0))}
                  for n in scored.tiers.names],
        "wrote": list(written)})
