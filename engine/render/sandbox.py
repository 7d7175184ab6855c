"""One sandbox for every template a project may edit (campaign briefs, the report page).

Templates are user files, as untrusted as the data. Jinja2's ``ImmutableSandboxedEnvironment``
already keeps them away from Python internals (``__class__``, ``__globals__``) and from
changing the data; this module also bounds the work and the memory a template can take, so
that no template can hang a run or exhaust the machine:

- at most ``MAX_STEPS`` steps: loop iterations, calls, filters and operators (a value that is
  built costs a step per 1,000 characters or items);
- no value longer than ``MAX_SIZE`` characters or items, and no whole number longer than
  ``MAX_INT_BITS`` bits, refused *before* it is built (``'x' * 10**9``, ``2 ** (10 ** 10)``,
  ``'x'|center(10**9)``, ``'%999999999d'|format(1)``, ``sep.join(...)``);
- at most ``MAX_OUTPUT`` characters written, macros and ``{% set %}`` blocks included;
- a template file of at most ``MAX_TEMPLATE_BYTES``; recursion (a macro or an include that
  calls itself) is an error, not a crash.

A template past a limit is an input error (exit 1) at its file and line. HTML templates
(``.html.j2``) escape every value for HTML, the others (the Markdown brief) for Markdown
(``engine.render.markdown``); ``|safe`` marks a value as markup on purpose.
"""

from __future__ import annotations

import functools
import os
import posixpath
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Sized
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.loaders import split_template_path
from jinja2.nodes import EvalContext
from jinja2.runtime import markup_join, str_join
from jinja2.sandbox import (
    ImmutableSandboxedEnvironment,
)
from markupsafe import Markup

from engine.errors import InputError, Problem
from engine.project.templates import MAX_TEMPLATE_BYTES, Outside, Templates
from engine.render.figures import NO_FIGURE, Price, none, price
from engine.render.generated import python_of
from engine.render.markdown import escape_markdown
from engine.render.template_limits import (
    COSTLY_FILTERS,
    COSTLY_STEPS,
    FILTER_CHECKS,
    MAX_BUILT,
    MAX_INT_BITS,
    MAX_OUTPUT,
    MAX_RUN_OUTPUT,
    MAX_RUN_STEPS,
    MAX_SIZE,
    MAX_STEPS,
    METHOD_CHECKS,
    NOT_PRINTING,
    BoundedEscapeFormatter,
    BoundedFormatter,
    TemplateLimit,
    TemplateNotText,
    TemplateOutside,
    TemplateTooLarge,
    check_binop,
    check_printed,
    length,
    printed,
    shallow_recursion,
    too_large,
)
from engine.render.template_problems import problem_of


def _is_bounded(node: nodes.Node) -> bool:
    return isinstance(node, nodes.Call) and isinstance(node.node, nodes.EnvironmentAttribute) \
        and node.node.name == "bounded_iter"


class _Codegen(CodeGenerator):
    """Jinja2's code generator, with every loop, concatenation and output counted."""

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        if not _is_bounded(node.iter):  # loop over environment.bounded_iter(<the iterable>)
            node.iter = nodes.Call(nodes.EnvironmentAttribute("bounded_iter"), [node.iter], [],
                                   None, None, lineno=node.iter.lineno)
        super().visit_For(node, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        escape = ("context.eval_ctx.autoescape" if frame.eval_ctx.volatile
                  else str(bool(frame.eval_ctx.autoescape)))
        self.write(f"environment.joined({escape}, (")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")

    def _output_const_repr(self, group: Iterable[Any]) -> str:
        return f"environment.emit({super()._output_const_repr(group)})"

    def _output_child_pre(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        self.write("environment.emit(")
        super()._output_child_pre(node, frame, finalize)

    def _output_child_post(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        super()._output_child_post(node, frame, finalize)
        self.write(")")


class Sandbox(ImmutableSandboxedEnvironment):
    """The environment every project template is rendered in (see the module docstring)."""

    intercepted_binops = frozenset({"*", "**", "%", "+", "//"})
    code_generator_class = _Codegen

    def __init__(self, templates: Templates, folders: Sequence[Path] = (), *,
                 trim: bool) -> None:
        super().__init__(
            loader=_Loader(templates, [str(f) for f in folders]),
            undefined=jinja2.StrictUndefined,
            autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2"),
                                                default_for_string=False),
            keep_trailing_newline=True, trim_blocks=trim, lstrip_blocks=trim,
            finalize=_markdown_value,
        )
        self.steps = 0
        self.output = 0
        self.built = 0
        self.run_steps = 0
        self.run_output = 0
        del self.globals["lipsum"]  # generates text without bound; no brief needs it
        # a figure that has none (a share of a budget of 0, a return on no spend) is "n/a"
        # a price per unit (figures.Price): a contact may cost a fraction of a cent, 0.005
        # each rounded half up on its decimal value, as the files are (engine.decimals)
        self.filters["money"] = lambda v, cur="": NO_FIGURE if none(v) else \
            f"{cur} {price(v) if isinstance(v, Price) else f'{_half_up(v, 2):,.2f}'}".strip()
        self.filters["pct"] = lambda v, digits=1: NO_FIGURE if none(v) else \
            f"{_half_up(float(v) * 100, int(digits)):.{int(digits)}f}%"
        self.filters["num"] = lambda v: NO_FIGURE if none(v) else f"{_half_up(v, 0):,.0f}"
        for name, fn in list(self.filters.items()):
            self.filters[name] = self._guard_filter(name, fn)

    def compile(self, source: Any, name: str | None = None, filename: str | None = None,
                raw: bool = False, defer_init: bool = False) -> Any:
        """Jinja2's compile, the generated Python of a text kept (``engine.render.generated``)."""
        if not isinstance(source, str):  # a parsed template, as Jinja2 compiles it
            return super().compile(  # type: ignore[call-overload]
                source, name, filename, raw, defer_init)
        try:
            code = python_of(self, source, name, filename, defer_init,
                             lambda: (self.steps, self.output, self.built))
        except jinja2.TemplateSyntaxError:
            self.handle_exception(source=source)
        return code if raw else self._compile(code, filename or "<template>")

    def reset(self) -> None:
        """Before each render: the limits of one render start afresh."""
        self.steps = 0
        self.output = 0
        self.built = 0

    def start_run(self) -> None:
        """Before the renders of one run (every brief of ``cvm run``): bounded in all."""
        self.run_steps = 0
        self.run_output = 0

    def step(self, n: int = 1) -> None:
        self.steps += n
        self.run_steps += n
        if self.steps > MAX_STEPS:
            raise TemplateLimit(f"takes more than {MAX_STEPS:,} steps (loop iterations, "
                                "calls and operations)")
        if self.run_steps > MAX_RUN_STEPS:
            raise TemplateLimit(f"takes, with the templates rendered before it in this run, "
                                f"more than {MAX_RUN_STEPS:,} steps")

    def charge(self, value: Any, per_item: int = 0) -> None:
        """The work of reading ``value`` (a filter's or a method's input), before it is done:
        a step per 1,000 characters or items, or ``per_item`` steps per character or item."""
        size = length(value)
        self.step(size * per_item if per_item else size // 1000)

    def sized(self, value: Any) -> Any:
        size = length(value)
        if size > MAX_SIZE:
            raise too_large("a value")
        if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
            raise TemplateLimit(f"computes a number of more than {MAX_INT_BITS:,} bits")
        self.built += size
        if self.built > MAX_BUILT:
            raise TemplateLimit(f"builds more than {MAX_BUILT:,} characters or items in all")
        self.step(1 + size // 1000)
        return value

    def bounded_iter(self, iterable: Any) -> Iterator[Any]:
        for item in iterable:
            self.step()
            yield item

    def joined(self, escape: bool, parts: tuple[Any, ...]) -> Any:
        if sum(printed(p) for p in parts) > MAX_SIZE:
            raise too_large("a joined value")
        return self.sized((markup_join if escape else str_join)(parts))

    def emit(self, text: Any) -> Any:
        self.output += len(text)
        self.run_output += len(text)
        if self.output > MAX_OUTPUT:
            raise TemplateLimit(f"writes more than {MAX_OUTPUT:,} characters")
        if self.run_output > MAX_RUN_OUTPUT:
            raise TemplateLimit(f"writes, with the templates rendered before it in this run, "
                                f"more than {MAX_RUN_OUTPUT:,} characters")
        self.step()
        return text

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        self.step()
        check_binop(operator, left, right)
        return self.sized(super().call_binop(context, operator, left, right))

    def call(self, context: Any, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        self.step()
        owner = getattr(obj, "__self__", None)
        for value in (owner, *args):
            self.charge(value)
        check = METHOD_CHECKS.get(getattr(obj, "__name__", "")) \
            if isinstance(owner, str) else None
        if check is not None:  # Jinja2 passes its own _loop_vars and _block_vars along
            if obj.__name__ == "join" and args and not isinstance(args[0], Sized):
                args = (list(self.bounded_iter(args[0])), *args[1:])  # count what is joined
            check(owner, *args, **{k: v for k, v in kwargs.items() if not k.startswith("_")})
        return self.sized(super().call(context, obj, *args, **kwargs))

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """Jinja2's own ``str.format`` sandboxing, with field widths bounded."""
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        f_self: str = value.__self__
        formatter = BoundedEscapeFormatter(self, escape=f_self.escape) \
            if isinstance(f_self, Markup) else BoundedFormatter(self)
        is_map = value.__name__ == "format_map"

        def bounded(*args: Any, **kwargs: Any) -> str:
            if not is_map:
                return type(f_self)(formatter.vformat(f_self, args, kwargs))
            if kwargs or len(args) != 1:  # Jinja2 says what is wrong
                return wrapped(*args, **kwargs)  # type: ignore[no-any-return]
            return type(f_self)(formatter.vformat(f_self, (), args[0]))

        return bounded

    def _guard_filter(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        check = FILTER_CHECKS.get(name)
        skip = 1 if getattr(fn, "jinja_pass_arg", None) is not None else 0

        printing = name not in NOT_PRINTING
        per_item = COSTLY_STEPS if name in COSTLY_FILTERS else 0

        @functools.wraps(fn)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            self.step()
            if len(args) > skip and isinstance(args[skip], jinja2.Undefined) and \
                    name not in ("default", "d"):  # budget.usd | round, pprint: not a TypeError
                # or "Undefined" printed, but the misspelt name's error (Jinja2's own fails on
                # arithmetic and int(), not in round(), abs(), pprint or tojson)
                args[skip]._fail_with_undefined_error()
            if name == "join" and len(args) > skip and not isinstance(args[skip], Sized):
                args = (*args[:skip], list(self.bounded_iter(args[skip])), *args[skip + 1:])
            if len(args) > skip:
                self.charge(args[skip], per_item)
            if printing and len(args) > skip:
                check_printed(args[skip])
            if check is not None:
                check(*args[skip:], **kwargs)
            return self.sized(fn(*args, **kwargs))

        return guarded


def _half_up(value: Any, places: int) -> float:
    from engine.decimals import figure  # numpy: loaded when a figure is first shown

    return figure(float(value), places)


@jinja2.pass_eval_context
def _markdown_value(eval_ctx: EvalContext, value: Any) -> Any:
    """Each ``{{ value }}`` of a template that is not HTML-escaped (the Markdown brief) is
    escaped for Markdown; ``|safe`` (Markup) is kept as written."""
    check_printed(value)
    if eval_ctx.autoescape or not isinstance(value, str) or isinstance(value, Markup):
        return value
    return escape_markdown(value)


class _Loader(jinja2.FileSystemLoader):
    """The project's templates from the text read with the project (``Templates``), then the
    built-in ones in ``folders``: of bounded size, UTF-8, with a located error. The project's
    template files are never opened here."""

    def __init__(self, templates: Templates, folders: Sequence[str]) -> None:
        super().__init__(list(folders))  # the built-in ones only: a project file is never opened
        self.templates = templates

    def get_source(self, environment: jinja2.Environment, template: str
                   ) -> tuple[str, str, Callable[[], bool]]:
        name = "/".join(split_template_path(template))
        found = self.templates.get(name)
        if found is None:  # not the project's: a built-in template (package data)
            for folder in self.searchpath:
                path = Path(folder) / template
                if path.is_file() and path.stat().st_size > MAX_TEMPLATE_BYTES:
                    raise TemplateTooLarge(f"is larger than {MAX_TEMPLATE_BYTES:,} bytes")
            try:
                return super().get_source(environment, template)
            except UnicodeDecodeError as exc:
                raise TemplateNotText(f"byte {exc.object[exc.start]:#04x} at offset "
                                      f"{exc.start} is not valid UTF-8", template) from None
        if isinstance(found, int):
            raise TemplateTooLarge(f"is larger than {MAX_TEMPLATE_BYTES:,} bytes")
        if isinstance(found, Outside) and found.folder:
            raise TemplateOutside(f"templates/ is a link to {found.target}: a project's "
                                  "templates are read from its own templates/ folder only",
                                  "move the templates into templates/ instead of linking to "
                                  "their folder")
        if isinstance(found, Outside):
            raise TemplateOutside(f"templates/{name} is a link to {found.target}, outside the "
                                  "project's templates/ folder")
        try:
            text = found.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TemplateNotText(f"byte {exc.object[exc.start]:#04x} at offset {exc.start} "
                                  "is not valid UTF-8", name) from None
        # as a file opened as text reads it (universal newlines), the way Jinja2 read it
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        filename = os.path.normpath(posixpath.join(str(self.templates.folder), name))
        return text, filename, lambda: True


@functools.lru_cache(maxsize=16)
def sandbox(templates: Templates, folders: tuple[Path, ...] = (), *, trim: bool) -> Sandbox:
    """The sandbox for the project's ``templates``, then the built-in ones in ``folders``
    (cached: compiled templates are reused while the text is the same). ``trim``: drop the
    newline after a block tag and the spaces before it (the briefs are written that way)."""
    return Sandbox(templates, folders, trim=trim)


def check(env: Sandbox, name: str, shown: Callable[[str], str]) -> Problem | None:
    """Compile a template; the problem with it, if any (for ``cvm validate``)."""
    env.reset()
    try:
        env.get_template(name)
    except Exception as exc:  # every failure of a user file becomes its problem
        return problem_of(exc, name, shown, {}, env)
    return None


def render_template(env: Sandbox, name: str, context: Mapping[str, Any],
                    shown: Callable[[str], str], *, new_run: bool = True) -> str:
    """Render a template within the limits; any failure is an InputError at its line.
    ``shown`` turns a template file name into the path shown to the user; ``new_run``: false
    for the second and later renders of one run (bounded in all, see ``start_run``)."""
    env.reset()
    if new_run:
        env.start_run()
    try:
        with shallow_recursion():
            return "".join(env.get_template(name).generate(context))
    except Exception as exc:  # every failure of a user file becomes its problem
        # chained: cvm validate tells from the failure whether any data meets it
        raise InputError(problem_of(exc, name, shown, context, env)) from exc

