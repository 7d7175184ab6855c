"""The holdout draw is pinned: a change of formula would silently redraw every holdout group, so
the members for given salts, campaigns and ids are written out here, and the formula is
recomputed with hashlib directly."""

from __future__ import annotations

import hashlib

import numpy as np

from engine.activation.holdout import in_holdout, uniform

IDS = np.array([f"C{i:06d}" for i in range(1, 31)], dtype=object)


def _u(salt: str, campaign: str, customer: str) -> float:
    digest = hashlib.blake2b(f"{salt}|{campaign}|{customer}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def test_members_are_pinned() -> None:
    def members(campaign: str, share: float, salt: str) -> list[str]:
        n = len(IDS)
        got = in_holdout(IDS, np.full(n, campaign, dtype=object), np.full(n, share), salt)
        return list(IDS[got])

    assert members("win_back", 0.10, "2026") == ["C000010", "C000012", "C000027", "C000028"]
    assert members("win_back", 0.25, "2026") == ["C000003", "C000008", "C000010", "C000011",
                                                 "C000012", "C000019", "C000027", "C000028"]
    assert members("retain_high_value", 0.10, "cvm") == ["C000003", "C000016", "C000027"]
    assert members("win_back", 0.0, "2026") == []


def test_the_formula_is_blake2b_of_salt_campaign_and_id() -> None:
    assert uniform(IDS[:1], np.array(["win_back"], dtype=object), "2026")[0] == \
        0x476E1BF87B69903D / 2**64
    campaigns = np.array(["win_back", "retain_high_value"] * 15, dtype=object)
    expected = [_u("2026", k, c) for c, k in zip(IDS, campaigns, strict=True)]
    assert list(uniform(IDS, campaigns, "2026")) == expected
    shares = np.linspace(0.0, 0.9, len(IDS))
    assert list(in_holdout(IDS, campaigns, shares, "2026")) == \
        [u < s for u, s in zip(expected, shares, strict=True)]


def test_every_kind_of_campaign_and_id_draws_as_the_formula() -> None:
    """The draw by campaign prefix (a hash copied per customer) is the formula's, bit for bit,
    for missing campaigns, ids of other kinds, and pairs left out by ``only``."""
    ids = np.array(["C1", 7, "0f8fad5b-d9cb-469f-a165-70867728950e", "é", "C1", 2.5],
                   dtype=object)
    campaigns = np.array(["a", None, "a", float("nan"), "b|c", None], dtype=object)
    expected = [_u("s", f"{k}", f"{c}") for c, k in zip(ids, campaigns, strict=True)]
    assert list(uniform(ids, campaigns, "s")) == expected
    only = np.array([True, False, True, True, False, True])
    assert list(uniform(ids, campaigns, "s", only=only)) == \
        [u if keep else 1.0 for u, keep in zip(expected, only, strict=True)]
