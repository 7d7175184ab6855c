"""Ties between a customer's channels go to the channel the customer prefers, then to the
policy's earlier channel (README "Allocation": "equal expected values go to the customer's
preferred channel"). The preference lift makes 0.10 x 1.5 equal 0.15 x 1 to a millionth: a tie.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.activation.allocate import allocate
from tests.test_allocate import Instance, _by_customer, _channel, _setup


def test_a_tie_goes_to_the_preferred_channel() -> None:
    # ca: response 0.15, room for 5; cb: 0.10 x lift 1.5, preferred by the first 40 customers;
    # relationship_weight 0: 120 x 0.15 - 1 = 120 x 0.10 x 1.5 - 1 = 17 on both channels
    setup = _setup([_channel("ca", 1.0, 5, None, 0.0, 0.15),
                    _channel("cb", 1.0, 1000, None, 0.0, 0.10)], {"k": None}, weight=0.0)
    ids = [f"K{i:03d}" for i in range(1, 44)]
    prefers = ["cb"] * 40 + ["", "", "ca"]
    actions = pd.DataFrame({"customer_id": ids, "channels": "ca|cb", "campaign": "k",
                            "service_level": "premium"})
    table = pd.DataFrame({"customer_id": ids, "preferred_channel": prefers})
    inst = Instance(setup, actions, table, np.full(len(ids), 120.0))
    opts = inst.options()
    assert np.all(opts.ev[:40] == 17.0)  # a tie, to the millionth
    served = _by_customer(inst, allocate(opts, setup))
    # those who prefer cb get cb; without a preference, the policy's earlier channel
    assert served == {**{i: "cb" for i in ids[:40]}, "K041": "ca", "K042": "ca", "K043": "ca"}


def test_preference_decides_a_tie_before_the_policys_channel_order() -> None:
    setup = _setup([_channel("a", 1.0, 100, None, 0.0, 0.15),
                    _channel("b", 1.0, 100, None, 0.0, 0.10)], {"k": None})
    ids = ["p", "q", "r"]
    actions = pd.DataFrame({"customer_id": ids, "channels": ["a|b", "b|a", "a|b"],
                            "campaign": "k", "service_level": "premium"})
    table = pd.DataFrame({"customer_id": ids, "preferred_channel": ["b", "b", ""]})
    inst = Instance(setup, actions, table, np.array([70.0, 70.0, 70.0]))
    assert _by_customer(inst, allocate(inst.options(), setup)) == {"p": "b", "q": "b",
                                                                   "r": "a"}
