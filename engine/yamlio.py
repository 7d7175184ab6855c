"""Safe YAML reading for every file a user edits (cvm.yaml, rules/, policies/, channels).

Thin wrapper over PyYAML's safe loader that
- rejects duplicate keys (plain ``yaml.safe_load`` silently keeps the last one),
- bounds alias expansion (a "billion laughs" file is refused, not expanded),
- keeps the line and column of every value, so later checks can point at it,
- reports syntax errors with the line number and the numbered lines around it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from engine.errors import InputError, Problem

try:
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[attr-defined,assignment]
except AttributeError:  # pragma: no cover - pure-Python PyYAML
    _Loader = yaml.SafeLoader

MAX_NODES = 100_000  # generous for hand-written files, fatal for alias bombs
Path_ = tuple[str | int, ...]


@dataclass
class YamlDoc:
    """A parsed YAML document with the position (1-based line, column) of every value."""

    file: str
    data: Any
    positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    key_positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def where(self, path: Path_, *, key: bool = False) -> tuple[int | None, int | None]:
        """Line and column of the value at ``path`` (or of its key), else of its nearest parent."""
        table = self.key_positions if key else self.positions
        probe = tuple(path)
        while True:
            if probe in table:
                return table[probe]
            if probe in self.positions:
                return self.positions[probe]
            if not probe:
                return None, None
            probe = probe[:-1]

    def problem(
        self, path: Path_, message: str, *, hint: str | None = None, key: bool = False,
        severity: str = "error",
    ) -> Problem:
        line, column = self.where(path, key=key)
        return Problem(
            message, file=self.file, line=line, column=column, key=format_path(path) or None,
            hint=hint, severity=severity,
        )


def format_path(path: Path_) -> str:
    """``("policies", 0, "when")`` -> ``policies[0].when``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def load_file(path: Path, *, display: str | None = None) -> YamlDoc:
    """Read and parse one YAML file; raise InputError with a position on any problem."""
    name = display or str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(Problem("file not found", file=name)) from None
    except IsADirectoryError:
        raise InputError(Problem("is a folder, expected a YAML file", file=name)) from None
    except PermissionError:
        raise InputError(Problem("cannot be read (permission denied)", file=name)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            Problem(
                f"byte {raw[exc.start]:#04x} is not valid UTF-8", file=name, line=line,
                hint="save the file as UTF-8",
            )
        ) from None
    return load_text(text, file=name)


def load_text(text: str, *, file: str = "<string>") -> YamlDoc:
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        message = f"YAML syntax error: {exc.problem or exc.context}"
        raise InputError(
            Problem(message, file=file, line=line, column=column, hint=_snippet(text, line))
        ) from None
    except yaml.YAMLError as exc:
        raise InputError(Problem(f"YAML error: {exc}", file=file)) from None
    doc = YamlDoc(file=file, data=None)
    if node is None:
        return doc
    builder = _Builder(doc)
    doc.data = builder.build(node, ())
    return doc


def _snippet(text: str, line: int | None) -> str | None:
    if line is None:
        return None
    lines = text.splitlines()
    lo, hi = max(1, line - 2), min(len(lines), line + 1)
    body = "\n".join(f"    {n:>4} | {lines[n - 1]}" for n in range(lo, hi + 1))
    return "the lines around it:\n" + body if body else None


class _Builder:
    def __init__(self, doc: YamlDoc) -> None:
        self.doc = doc
        self.nodes = 0
        self.constructor = _Loader("")

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise InputError(
                self.doc.problem(
                    path, f"document expands to more than {MAX_NODES:,} values",
                    hint="aliases (*name) that repeat large anchors are not allowed to expand "
                    "without bound; write the values out",
                )
            )
        self.doc.positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(child, (*path, i)) for i, child in enumerate(node.value)]
        return self.constructor.construct_object(node, deep=True)  # type: ignore[no-untyped-call]

    def _mapping(self, node: yaml.MappingNode, path: Path_) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for key_node, value_node in _flatten_merge(node):
            key = self.constructor.construct_object(key_node, deep=True)  # type: ignore[no-untyped-call]
            if isinstance(key, (list, dict)):
                raise InputError(self.doc.problem(path, "a key must be a plain value"))
            sub = (*path, key if isinstance(key, (str, int)) else str(key))
            if key in out:
                first = self.doc.key_positions.get(sub, (None, None))[0]
                raise InputError(
                    Problem(
                        f"duplicate key {key!r} (first defined on line {first})",
                        file=self.doc.file, line=key_node.start_mark.line + 1,
                        column=key_node.start_mark.column + 1, key=format_path(sub),
                        hint="YAML keeps only one of them; remove or rename one",
                    )
                )
            self.doc.key_positions[sub] = (
                key_node.start_mark.line + 1, key_node.start_mark.column + 1,
            )
            out[key] = self.build(value_node, sub)
        return out


def _flatten_merge(node: yaml.MappingNode) -> Iterator[tuple[yaml.Node, yaml.Node]]:
    """Mapping pairs with ``<<: *anchor`` merges expanded (explicit keys win, as YAML says)."""
    merged: list[tuple[yaml.Node, yaml.Node]] = []
    own: list[tuple[yaml.Node, yaml.Node]] = []
    for key_node, value_node in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            is_list = isinstance(value_node, yaml.SequenceNode)
            sources = value_node.value if is_list else [value_node]
            for src in sources:
                if isinstance(src, yaml.MappingNode):
                    merged.extend(_flatten_merge(src))
        else:
            own.append((key_node, value_node))
    own_keys = {k.value for k, _ in own if isinstance(k, yaml.ScalarNode)}
    yield from ((k, v) for k, v in merged if getattr(k, "value", None) not in own_keys)
    yield from own
