"""`cvm init --from` on amounts written with a currency symbol: the amount column is named like
it but the engine cannot read it, so it is not guessed (with the reason and the fix), and no
other column of decimals (the cost) is taken for it."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from engine.cli import app


def test_currency_symbols_are_said_and_the_cost_is_not_taken_for_the_amount(
        tmp_path: Path) -> None:
    source = tmp_path / "tx.csv"
    rows = [f"C{i % 40},2024-01-{1 + i % 28:02d},${10 + i % 13}.25,{4 + i % 5}.10"
            for i in range(200)]
    source.write_text("CustomerID,OrderDate,NetAmount,Cost\n" + "\n".join(rows) + "\n")
    result = CliRunner().invoke(app, ["init", str(tmp_path / "p"), "--from", str(source)])
    assert result.exit_code == 0, result.output  # before data.currency_sign: refused, 1
    text = result.output
    assert "amount       <- 'Cost'" not in text and "amount       <- 'NetAmount'" in text
    config = (tmp_path / "p" / "cvm.yaml").read_text()
    assert ('  currency_sign: "$"  # guess: column \'NetAmount\' writes numbers like '
            "'$10.25'\n") in config
    assert "\ncurrency: USD  # guess: column 'NetAmount' writes $ ('$10.25')\n" in config


def test_a_few_amounts_with_a_symbol_or_separator_are_named(tmp_path: Path) -> None:
    """A new user's export: most amounts plain, 11 with '€', 4 with a thousands separator;
    the reason said only 'holds text values', naming no value."""
    source = tmp_path / "tx.csv"
    rows = [f"C{i % 40},2024-01-{1 + i % 28:02d},{10 + i % 13}.25" for i in range(200)]
    rows[7] = "C7,2024-01-08,€20.16"
    rows[50] = 'C10,2024-01-23,"3,590.80"'
    source.write_text("CustomerID,OrderDate,NetAmount\n" + "\n".join(rows) + "\n")
    result = CliRunner().invoke(app, ["init", str(tmp_path / "p"), "--from", str(source)])
    assert result.exit_code == 0, result.output  # before data.thousands: refused, 1
    config = (tmp_path / "p" / "cvm.yaml").read_text()
    assert "  thousands: \",\"  # guess: column 'NetAmount' writes numbers like '3,590.80'\n" \
        in config
    assert "  currency_sign: \"€\"  # guess: column 'NetAmount' writes numbers like " \
        "'3,590.80'\n" in config
