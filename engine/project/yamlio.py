"""Safe YAML reading for every file a user edits (cvm.yaml, rules/, policies/, channels).

Thin wrapper over PyYAML's safe loader that
- rejects duplicate keys (plain ``yaml.safe_load`` silently keeps the last one),
- bounds alias expansion (a "billion laughs" file is refused, not expanded),
- keeps the line and column of every value, so later checks can point at it,
- refuses control characters, raw or written as escapes in double quotes (``"\\e[2J"``),
  but tabs and line breaks: they would reach the terminal from a brief or a message,
- refuses tags (``!!python/object``, ``!!binary``, ``!custom``...): a tag asks the reader to
  build something other than plain text, numbers, lists and mappings, and a file a marketer
  edits never needs one,
- reports values YAML cannot build (a date such as 2025-02-30) at their line,
- reports syntax errors with the line number and the numbered lines around it, and says so
  when a tab is the cause (YAML indents with spaces only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from engine.errors import CONTROL, InputError, Problem, clip
from engine.project.yaml_hints import misaligned, misaligned_item, unquotable
from engine.words import counted

try:
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[attr-defined,assignment]
except AttributeError:  # pragma: no cover - pure-Python PyYAML
    _Loader = yaml.SafeLoader

MAX_NODES = 100_000  # generous for hand-written files, fatal for alias bombs
MAX_DEPTH = 100  # nesting levels; hand-written files use a handful
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
    """``("policies", 0, "when")`` -> ``policies[0].when``; a very deep path keeps its ends."""
    if len(path) > 8:
        return f"{format_path(path[:4])} ... {format_path(path[-3:])}"
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def load_file(path: Path, *, display: str | None = None, inside: Path | None = None) -> YamlDoc:
    """Read and parse one YAML file; raise InputError with a position on any problem.
    ``inside``: the project folder a project file must be in; a link to a file elsewhere is
    not read (its lines would be shown in the errors: a link to a credentials file)."""
    name = display or str(path)
    if inside is not None and path.is_symlink() and \
            not path.resolve().is_relative_to(inside.resolve()):
        raise InputError(Problem(
            f"is a link to {path.resolve()}, outside the project folder: not read",
            file=name, hint="copy the file into the project instead of linking to it"))
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
        tags = _explicit_tags(text)
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        raise InputError(_syntax_problem(exc, text, file)) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow anywhere
        before = text[: exc.position]
        line = before.count("\n") + 1
        raise InputError(Problem(
            f"found the control character {chr(exc.character)!r}, expected text",
            file=file, line=line, column=exc.position - (before.rfind("\n") + 1) + 1,
            hint="the file may be binary or damaged; save it as UTF-8 text")) from None
    except yaml.YAMLError as exc:
        raise InputError(Problem(f"YAML error: {exc}", file=file)) from None
    except RecursionError:  # PyYAML without libyaml recurses once per level of nesting
        raise InputError(Problem(
            "YAML syntax error: values nested too deeply for the YAML reader", file=file,
            line=1, hint="no CVM file needs this much nesting; check the brackets and the "
            "indentation")) from None
    doc = YamlDoc(file=file, data=None)
    if node is None:
        return doc
    builder = _Builder(doc, tags, text)
    doc.data = builder.build(node, ())
    return doc


def _syntax_problem(exc: yaml.MarkedYAMLError, text: str, file: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else None
    column = mark.column + 1 if mark else None
    said = ", ".join(str(x) for x in (exc.context, exc.problem) if x)
    hint = _snippet(text, line)
    if tabbed := _tab_lines(text, line):
        hint = (f"YAML indents with spaces only: line {tabbed[0]} has a tab (shown as →); "
                f"replace it with spaces; {hint}")
    elif "another document" in said:
        hint = f"a CVM file holds one YAML document: remove the '---' line; {hint}"
    elif quoted := unquotable(text, line, column):  # date_format: %d.%m.%Y
        hint = f"a value starting with {quoted[1]} must be in quotes: {quoted}; {hint}"
    elif (shifted := (misaligned(text, line) if "mapping" in said or "key" in said
                      else None) or misaligned_item(text, line)):
        hint = f"{shifted}; {hint}"
    return Problem(f"YAML syntax error: {said}", file=file, line=line, column=column,
                   hint=hint)


def _explicit_tags(text: str) -> dict[tuple[int, int], str]:
    """The position (0-based line, column) of every tag written in the file, as written.
    Composed nodes keep only the resolved tag, so an explicit ``!!str`` or ``!!map`` could
    not be told from a plain value afterwards; the parser's events carry a tag only when the
    file wrote one."""
    if "!" not in text:  # every tag starts with "!": a file without one has none to find
        return {}
    lines = text.splitlines()
    out = {}
    for event in yaml.parse(text, Loader=_Loader):
        tag = getattr(event, "tag", None)
        mark = event.start_mark
        if tag is not None and mark is not None:
            rest = lines[mark.line][mark.column:].split() if mark.line < len(lines) else []
            out[(mark.line, mark.column)] = rest[0] if rest else str(tag)
    return out


def _tab_lines(text: str, line: int | None) -> list[int]:
    """Lines around an error (the ones the snippet shows) that hold a tab."""
    if line is None:
        return []
    lines = text.splitlines()
    lo, hi = max(1, line - 2), min(len(lines), line + 1)
    near = sorted(range(lo, hi + 1), key=lambda n: (abs(n - line), n))
    return [n for n in near if "\t" in lines[n - 1]]


def _snippet(text: str, line: int | None) -> str | None:
    if line is None:
        return None
    lines = text.splitlines()
    lo, hi = max(1, line - 2), min(len(lines), line + 1)
    body = "\n".join(f"    {n:>4} | {_shorten(lines[n - 1])}".replace("\t", "→")
                     for n in range(lo, hi + 1))
    return "the lines around it:\n" + body if body else None


def _shorten(text: str, width: int = 100) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# cvm.yaml's delimiters: one character, a control character too (Hive's exports: "\x01")
DELIMITERS = {("data", "delimiter"), ("data", "customers_delimiter")}


class _Builder:
    def __init__(self, doc: YamlDoc, tags: dict[tuple[int, int], str], text: str) -> None:
        self.doc = doc
        self.tags = tags
        self.lines = text.splitlines()
        self.nodes = 0
        self.constructor = _Loader("")
        # each mapping flattened once (an alias repeats a node, it does not copy it): merges
        # that repeat anchors cannot grow exponentially; ``None`` marks one being flattened
        self.flat: dict[int, list[tuple[yaml.Node, yaml.Node]] | None] = {}

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self.count(1, path)
        self.doc.positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if len(path) > MAX_DEPTH:
            raise InputError(self.doc.problem(path, f"values nested more than {MAX_DEPTH} "
                                              "levels deep", hint="no CVM file needs this "
                                              "much nesting; check the indentation"))
        if isinstance(node, yaml.MappingNode):
            self._refuse_tag(node, path)
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            self._refuse_tag(node, path)
            return [self.build(child, (*path, i)) for i, child in enumerate(node.value)]
        return self._scalar(node, path)

    def count(self, n: int, path: Path_) -> None:
        self.nodes += n
        if self.nodes > MAX_NODES:
            raise InputError(
                self.doc.problem(
                    path, f"document expands to more than {MAX_NODES:,} values",
                    hint="aliases (*name) that repeat large anchors are not allowed to expand "
                    "without bound; write the values out",
                )
            )

    def _refuse_tag(self, node: yaml.Node, path: Path_) -> None:
        tag = self.tags.get((node.start_mark.line, node.start_mark.column))
        if tag is not None:
            raise InputError(self.doc.problem(
                path, f"found the YAML tag {tag!r}, expected a plain value without a tag",
                hint="tags (!!python/..., !!binary, !!set, !name) are not allowed in CVM "
                "files; remove the tag and write the value itself"))

    def _scalar(self, node: yaml.Node, path: Path_) -> Any:
        self._refuse_tag(node, path)
        if CONTROL.search(node.value) and not (  # written as an escape: "\e[2J", "\x07"
                tuple(path) in DELIMITERS and len(node.value) == 1):  # Hive's "\x01"
            raise InputError(Problem(
                f"found {clip(node.value)}, expected text without control characters",
                file=self.doc.file, line=node.start_mark.line + 1,
                column=node.start_mark.column + 1, key=format_path(path) or None,
                hint="write the text without control characters: in double quotes, an escape "
                "such as \\e, \\a, \\x1b or \\u009b writes one (\\n and \\t are allowed)"))
        if path and isinstance(path[-1], int) and node.end_mark.line > node.start_mark.line:
            self._joined_item(node, path)
        if node.tag == STR:  # what the constructor would return, without its bookkeeping
            return node.value
        try:
            return self.constructor.construct_object(node, deep=True)  # type: ignore[no-untyped-call]
        except (ValueError, OverflowError, yaml.YAMLError):
            # the value looks like a date or a number to YAML, but none exists (2025-02-30)
            kind = node.tag.rsplit(":", 1)[-1]
            what = {"timestamp": "date", "int": "whole number", "float": "number"}.get(kind, kind)
            raise InputError(self.doc.problem(
                path, f"found {node.value!r}, which YAML reads as a {what} but is not a valid "
                f"one", hint="check the day and the month (e.g. April has 30 days); "
                "quote the value if it is meant as text")) from None

    def _joined_item(self, node: yaml.Node, path: Path_) -> None:
        """A list item indented further than the one above is joined to it: YAML reads
        ``- email`` then `` - sms`` as the one value 'email - sms'."""
        import dataclasses

        lines = self.lines
        first = node.start_mark.line
        for n in range(first + 1, min(node.end_mark.line + 1, len(lines))):
            if lines[n].lstrip(" ").startswith("- "):
                here, above = (len(x) - len(x.lstrip(" ")) for x in (lines[n], lines[first]))
                raise InputError(dataclasses.replace(self.doc.problem(
                    path, f"line {n + 1} is indented {counted(here, 'space')} and joins the "
                    f"list item above it (line {first + 1}, {counted(above, 'space')}): YAML "
                    f"reads them as the one value {clip(node.value)}", hint="the items of one "
                    "list line up: indent their '-' alike"), line=n + 1, column=here + 1))

    def _mapping(self, node: yaml.MappingNode, path: Path_) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for key_node, value_node in self._flatten(node, path):
            if not isinstance(key_node, yaml.ScalarNode):
                raise InputError(self.doc.problem(path, "a key must be a plain value"))
            key = self._scalar(key_node, path)
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

    def _flatten(self, node: yaml.MappingNode, path: Path_, via: yaml.Node | None = None,
                 depth: int = 0) -> list[tuple[yaml.Node, yaml.Node]]:
        """Mapping pairs with ``<<`` merges expanded as the YAML merge spec says: explicit keys
        override merged ones, and of the merged mappings the earlier one wins; explicit
        duplicate keys are kept (and refused by ``_mapping``). ``via``: the merge key that
        led here, where a cycle is reported."""
        if id(node) in self.flat or depth > MAX_DEPTH:
            done = self.flat.get(id(node))
            if done is not None:
                return done
            where = via if via is not None else node
            raise InputError(Problem(
                "the merge key (<<) merges a mapping into itself" if depth <= MAX_DEPTH
                else f"merges (<<) nested more than {MAX_DEPTH} levels deep",
                file=self.doc.file, line=where.start_mark.line + 1,
                column=where.start_mark.column + 1, key=format_path(path),
                hint="a mapping cannot merge itself or one that merges it (<<: *name inside "
                "&name); write the values out"))
        self.flat[id(node)] = None
        own = [(k, v) for k, v in node.value if k.tag != MERGE]
        seen = {_key_of(k) for k, _ in own}
        merged: list[tuple[yaml.Node, yaml.Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag != MERGE:
                continue
            sources = value_node.value if isinstance(value_node, yaml.SequenceNode) \
                else [value_node]
            for src in sources:
                if isinstance(src, yaml.MappingNode):
                    for pair in self._flatten(src, path, key_node, depth + 1):
                        if _key_of(pair[0]) not in seen:
                            seen.add(_key_of(pair[0]))
                            merged.append(pair)
        self.count(len(merged), path)
        pairs = merged + own
        self.flat[id(node)] = pairs
        return pairs


MERGE = "tag:yaml.org,2002:merge"
STR = "tag:yaml.org,2002:str"


def _key_of(node: yaml.Node) -> object:
    return node.value if isinstance(node, yaml.ScalarNode) else id(node)
