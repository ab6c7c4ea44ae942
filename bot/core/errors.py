"""Typed domain errors: a refusal a user reads, named by a message key with plain parameters.

A service says *what* went wrong (``raise NotAllowed("officials/no_department")``,
``raise NotFound("aspirations/ticket_unknown", ticket=ticket)``); the wording lives in Bahasa Indonesia in
``messages/errors/<key>.html.j2``. The edge shows it: ``exc.message`` (and ``str(exc)``) renders the template,
autoescaped, and gives back plain text, which the Telegram refusal template escapes again and the command line
prints as is.
"""

from __future__ import annotations

from functools import lru_cache
from html import unescape

from jinja2 import Environment, PackageLoader, StrictUndefined, Undefined, select_autoescape


def _repr(value: object) -> str:
    """``repr`` for a template, failing like any other missing parameter."""
    if isinstance(value, Undefined):
        str(value)  # StrictUndefined: raises, naming the parameter
    return repr(value)


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("messages", "errors"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        keep_trailing_newline=False,
    )
    env.filters["repr"] = _repr
    return env


def error_text(key: str, params: dict[str, object]) -> str:
    """The plain text of the refusal ``key`` with ``params``: one template in ``messages/errors/``."""
    rendered = _environment().get_template(f"{key}.html.j2").render(**params)
    return unescape(rendered).strip()


class DomainError(Exception):
    """A refusal the user should read: ``key`` names its text in ``messages/errors/``, ``params`` fill it."""

    def __init__(self, key: str, /, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params

    @property
    def message(self) -> str:
        """The refusal in Bahasa Indonesia, plain text, safe to show."""
        return error_text(self.key, self.params)

    def __str__(self) -> str:
        return self.message


class NotAllowed(DomainError):
    pass


class NotFound(DomainError):
    pass
