"""Plain-text wording that is not a refusal: a warning a service gives, a line the command line prints.

The words live in Bahasa Indonesia in ``messages/<feature>/<name>.txt.j2``, rendered here (the one plain-text
renderer: no autoescape, the text goes to a terminal, a log or a plain-text Telegram message) so Python code only
names them. Telegram HTML is rendered by ``bot.messaging.templates``; refusals by ``bot.core.errors``.
"""

from __future__ import annotations

from functools import lru_cache

from jinja2 import Environment, PackageLoader, StrictUndefined

from bot.core.domain import category_label


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("messages", "."),
        autoescape=False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,
        cache_size=-1,  # as the messages' environment: a template is compiled once
    )
    env.filters.update(repr=repr, kategori=category_label)
    return env


def plain(template: str, /, **params: object) -> str:
    """The plain text of ``messages/<feature>/<name>.txt.j2`` for ``plain("feature/name", …)``, without the
    blank lines around it."""
    return _environment().get_template(f"{template}.txt.j2").render(**params).strip("\n")


class Notice(str):
    """A typed piece of wording a service hands back (e.g. a warning about a date): it is its plain text, and it
    keeps the template ``key`` and the ``params`` that filled it for code that wants them."""

    key: str
    params: dict[str, object]

    def __new__(cls, key: str, /, **params: object) -> Notice:
        notice = super().__new__(cls, plain(key, **params))
        notice.key = key
        notice.params = params
        return notice


def phrases(template: str) -> dict[str, str]:
    """The named phrases of ``messages/<template>.txt.j2``, one ``{% set name = "…" %}`` each (e.g. the help
    texts of a command-line sub-command), rendered with no parameters."""
    module = _environment().get_template(f"{template}.txt.j2").module
    return {name: value for name, value in vars(module).items() if not name.startswith("_") and isinstance(value, str)}
