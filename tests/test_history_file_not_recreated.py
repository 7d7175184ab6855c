"""A SQLite history that exists is opened without creating it again: cvm serve, its folder
moved away while it writes (a re-trial), made an empty database file there and wrote into it
(no such table: the rows held, the stray file left in the user's folder). Paths with spaces,
%, ? and # read as they are."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.errors import CvmError
from engine.history.tables import runs
from tests.history_runs import open_history


def test_a_history_moved_away_is_an_error_and_no_new_file(tmp_path: Path) -> None:
    folder = tmp_path / "hist"
    folder.mkdir()
    store = open_history(str(folder / "h.sqlite"), tmp_path)
    try:
        shutil.move(str(folder), str(tmp_path / "away"))
        folder.mkdir()  # an empty folder in its place
        with pytest.raises(CvmError), store.transaction() as conn:
            conn.execute(select(runs.c.id)).all()
        assert list(folder.iterdir()) == []
    finally:
        store.close()


@pytest.mark.parametrize("name", ["with space", "per%41cent", "what?", "hash#tag"])
def test_paths_with_uri_characters_read_and_write(tmp_path: Path, name: str) -> None:
    folder = tmp_path / name
    folder.mkdir()
    path = folder / "h.sqlite"
    open_history(str(path), tmp_path).close()  # made
    store = open_history(str(path), tmp_path)  # opened again: an existing file
    try:
        with store.transaction() as conn:
            assert conn.execute(select(runs.c.id)).all() == []
    finally:
        store.close()
    assert sorted(p.name for p in folder.iterdir()) == ["h.sqlite"]
