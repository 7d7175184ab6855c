"""A folder of transactions is walked once per load: the files read and the names skipped come
from one listing (engine.data.folder.read_folder), the skipped-files note unchanged (the last
read of session 8: load.py listed the folder again for the note)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.data.load import load_transactions
from engine.project.config import load_config
from tests.test_fixtrial16_folder import _projects


def test_the_folder_is_listed_once_and_the_note_is_the_same(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, folder = _projects(tmp_path)
    data = tmp_path / "data" / "ds"
    (data / "README.md").write_text("what these files are\n")
    walked: list[Path] = []
    rglob = Path.rglob

    def counted(self: Path, pattern: str, **kwargs: object) -> object:
        if self == data:
            walked.append(self)
        return rglob(self, pattern, **kwargs)  # type: ignore[arg-type]

    config = load_config(folder)
    monkeypatch.setattr(Path, "rglob", counted)
    loaded = load_transactions(config)
    assert len(walked) == 1
    assert loaded.report.files_note == (
        "1 file skipped (suffix not .parquet, .pq, .csv, .txt or .tsv): README.md")
