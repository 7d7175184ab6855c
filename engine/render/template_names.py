"""The variables a template reads that its context never has, found in the template's text:
`cvm validate` renders the brief templates on a sample action list, and a misspelt name in a
branch the sample does not reach (``{% if audience.size > 50 %}{{ audeince.size }}``), or in
the report's template, which it does not render, stopped the run or the report instead.

Every template the one named includes, imports or extends by a constant name is read too. A
name is known when the context has it, Jinja gives it (``range``, ``loop``, ``caller``), or any
of these templates sets, loops over, imports or takes it as a macro's argument (an included
template sees its includer's names); a name a template tests (``is defined``, ``is none``: a
test of an undefined name fails nothing) or gives a ``default`` is left to that test. The
names are pooled over the templates and their scopes: a name set in one place and read where
it is not set is not found here (the run says it). Only top-level names: a misspelt field
(``audience.sizee``) depends on the value and is the sample rendering's to find.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from typing import Any

from jinja2 import nodes

from engine.errors import Problem
from engine.render.names import undefined_hint

JINJA_NAMES = frozenset({"loop", "caller", "varargs", "kwargs", "self", "super"})
_DEFAULTS = frozenset({"default", "d"})  # filters that do too


def unknown_names(env: Any, name: str, known: Collection[str],
                  shown: Callable[[str], str]) -> list[Problem]:
    """Each name the template ``name`` (and what it includes) reads that no context of
    ``known`` names has: an error at its first use, as the run says it."""
    trees = dict(_reachable(env, name))
    allowed = {*known, *env.globals, *JINJA_NAMES}
    for tree in trees.values():
        allowed |= _declared(tree)
    problems, said = [], set()
    for file, tree in trees.items():
        for node in tree.find_all(nodes.Name):
            if node.ctx == "load" and node.name not in allowed and node.name not in said:
                said.add(node.name)
                message = f"'{node.name}' is undefined"
                problems.append(Problem(message, file=shown(file), line=node.lineno,
                                        hint=undefined_hint(message, dict.fromkeys(known))))
    return sorted(problems, key=lambda p: (p.file or "", p.line or 0))


def _reachable(env: Any, name: str) -> Iterator[tuple[str, nodes.Template]]:
    """The template ``name`` and those it reaches by constant names, each parsed once (one
    that cannot be read or parsed is left out: compiling it says why)."""
    todo, seen = [name], set()
    while todo:
        file = todo.pop()
        if file in seen:
            continue
        seen.add(file)
        try:
            source = env.loader.get_source(env, file)[0]
            tree = env.parse(source, file)
        except Exception:  # said by check(), which compiles every template
            continue
        yield file, tree
        for node in tree.find_all((nodes.Include, nodes.Import, nodes.FromImport,
                                   nodes.Extends)):
            if isinstance(node.template, nodes.Const) and isinstance(node.template.value, str):
                todo.append(node.template.value)


def _declared(tree: nodes.Template) -> set[str]:
    """The names ``tree`` gives a value (set, loops, macros and their arguments, imports,
    ``with``) or guards (``is defined``, ``| default``)."""
    found = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    found |= {m.name for m in tree.find_all(nodes.Macro)}
    found |= {i.target for i in tree.find_all(nodes.Import)}
    for imported in tree.find_all(nodes.FromImport):
        found |= {n if isinstance(n, str) else n[1] for n in imported.names}
    for guard in tree.find_all((nodes.Test, nodes.Filter)):  # a test reads no value of an
        if (isinstance(guard, nodes.Test) or guard.name in _DEFAULTS) and \
                isinstance(guard.node, nodes.Name):  # undefined name (`is none`): no failure
            found.add(guard.node.name)
    return found
