"""One module per ``cvm`` subcommand; each has ``run(...) -> int`` (the exit code)."""
