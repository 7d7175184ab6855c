"""An amount written with the code of the currency data.currency_sign names by its sign (EUR
12,50 beside currency_sign: "€") is not 'another currency' to convert: a first-day trial's
find. Another currency still is."""

from __future__ import annotations

from engine.data.written_numbers import Numbers, unread_hint


def test_the_same_currency_written_another_way_is_said_so() -> None:
    assert unread_hint("EUR 12,50", Numbers(",", ".", "€")) == (
        "data.currency_sign is '€' in cvm.yaml: this amount is written with 'EUR', the same "
        "currency written another way; one sign is read past: export the amounts written one "
        "way")
    assert unread_hint("$12.50", Numbers(".", None, "€")) == (
        "data.currency_sign is '€' in cvm.yaml: this amount is written with '$'; amounts in "
        "another currency need converting first")
