"""Templates: separation of view.  Racket: ``web-server/templates``
(``include-template``), on Jinja2 (``pip install 'gevent-dispatch[templates]'``).

::

    def fast_template(thing):
        return include_template("simple.html", thing=thing)

``simple.html`` holds ``<title>Fastest {{ thing }} in the West!</title>``.  As Racket's
``include-template`` finds its file beside the module that includes it, a relative
path is taken from the directory of the calling module (an absolute path as it is).

Unlike Racket's templates, HTML is escaped: in ``.html``, ``.htm``, ``.xml`` and
``.xhtml`` templates every ``{{ value }}`` is escaped unless marked safe
(``markupsafe.Markup``, or ``|safe`` in the template).  The result of an escaped
template is itself marked safe, so one template's output included in another (Racket's
``(fast-template (fast-template "Embedding"))``) is not escaped twice.  Templates are
compiled once and reloaded when their file changes.

Racket's ``@in[x xs]{...}`` loop (``in``, a ``for/list`` in the template) is Jinja2's
``{% for x in xs %}...{% endfor %}``; its conditionals (``@when``, ``@if``) are
``{% if %}``, and ``@(expression)`` is ``{{ expression }}`` for the variables passed in::

    {% for c in clients %}<tr><td>{{ c[0] }}, {{ c[1] }}</td></tr>{% endfor %}

:func:`include_template_xml` is Racket's ``include-template/xml``: the rendered text as
a :class:`~dispatch.http.xexpr.CData`, to be placed inside an x-expression as it is
(``("html", include_template_xml("static.html"))``); a plain ``include_template`` result
there is text, and its markup would be escaped.
"""
from __future__ import annotations

import os
import sys
import threading
from typing import Any, Union

from dispatch.http.xexpr import CData

__all__ = ["include_template", "template_environment"]
__all__ += ["include_template_xml"]

_AUTOESCAPE = (".html", ".htm", ".xml", ".xhtml")
_environments: dict = {}
_lock = threading.Lock()


def _jinja2():
    try:
        import jinja2
    except ImportError:  # an extra: say how to get it
        raise ImportError("servlets.templates needs Jinja2: "
                          "pip install 'gevent-dispatch[templates]'") from None
    return jinja2


def template_environment(directory: Union[str, os.PathLike]):
    """The Jinja2 ``Environment`` for templates under ``directory`` (one per directory,
    made on first use): add filters or globals to it."""
    directory = os.path.realpath(directory)
    with _lock:
        env = _environments.get(directory)
        if env is None:
            jinja2 = _jinja2()
            env = jinja2.Environment(
                loader=jinja2.FileSystemLoader(directory),
                autoescape=lambda name: name is not None and name.lower().endswith(_AUTOESCAPE),
                undefined=jinja2.StrictUndefined,  # a misspelt variable is an error
                keep_trailing_newline=True)
            _environments[directory] = env
    return env


def include_template(path: Union[str, os.PathLike], **variables: Any) -> str:
    """Render the template file at ``path`` with ``variables``.  Racket:
    ``include-template``.  A relative ``path`` is taken from the directory of the
    calling module's file.  Returns a string (a ``markupsafe.Markup`` for escaped
    templates); an undefined variable raises ``jinja2.UndefinedError``."""
    return _render(path, sys._getframe(1).f_globals.get("__file__"), variables)


def include_template_xml(path: Union[str, os.PathLike], **variables: Any) -> CData:
    """:func:`include_template`'s text as a :class:`~dispatch.http.xexpr.CData`: written
    as it is where an x-expression includes it.  Racket: ``include-template/xml``
    (its ``cdata``).  Only use it for templates whose values are escaped (``.html``
    and the like) or trusted: the text is not escaped again."""
    return CData(_render(path, sys._getframe(1).f_globals.get("__file__"), variables))


def _render(path: Union[str, os.PathLike], caller: Any, variables: dict) -> str:
    path = os.fspath(path)
    if not os.path.isabs(path):
        base = os.path.dirname(os.path.abspath(caller)) if caller else os.getcwd()
        path = os.path.join(base, path)
    directory, name = os.path.split(os.path.abspath(path))
    template = template_environment(directory).get_template(name)
    text = template.render(**variables)
    if name.lower().endswith(_AUTOESCAPE):
        from markupsafe import Markup

        return Markup(text)
    return text
