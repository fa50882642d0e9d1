"""Web cells: state that follows the user's browsing, not the server's clock.  Racket:
``web-server/servlet/web-cells``.

A web cell's value lives in a *frame*.  Each page a stateful servlet sends keeps the
frame it was made in, and a request that comes back through one of its links or forms
(a ``send_suspend`` URL, an ``embed_url`` handler) starts from that frame.  So after
"+" on page 1 gives page 2 (``counter`` 1) and "+" on page 2 gives page 3
(``counter`` 2), the back button to page 2 and "+" there gives 2 again, not 3: each
page's links see the values the page was made with.  ``web_cell_shadow`` changes the
value for what follows from here (the pages made next) and never for the pages already
sent.  A plain variable in a closure is shared by every page instead; a global, by
every user.

::

    def start(request):
        counter = make_web_cell(0)

        def show():
            def plus(request):
                web_cell_shadow(counter, web_cell_ref(counter) + 1)
                return show()
            return send_suspend_dispatch(lambda embed_url: response_xexpr(
                ("p", str(web_cell_ref(counter)), " ", ("a", [("href", embed_url(plus))], "+"))))

        return show()

Frames are immutable mappings kept in a context variable of the servlet's greenlet:
``servlets.stateful`` saves the frame with each continuation it stores and puts it back
when the continuation is used (Racket: ``capture-web-cell-set`` and
``restore-web-cell-set!`` around ``send/suspend``).  Outside a stateful servlet a frame
still exists (one per greenlet, starting empty), so cells can be tested on their own.

Different from Racket: a cell that the current frame does not bind (made at module
level, or in another servlet instance) reads as the value it was made with; Racket
raises "Undefined web-cell" then.  Python cannot re-enter a continuation, so the
documentation's ``include-counter`` (``call/cc`` with ``servlet-prompt``) is written
with the page's own render function, as above (see ``examples/guide/web_cells.py``).
"""
from __future__ import annotations

import contextvars
from types import MappingProxyType
from typing import Any, Mapping

__all__ = ["WebCell", "is_web_cell", "make_web_cell", "web_cell_ref", "web_cell_shadow"]

Frame = Mapping["WebCell", Any]

_EMPTY: Frame = MappingProxyType({})
_frame: contextvars.ContextVar[Frame] = contextvars.ContextVar("web_cell_frame",
                                                                default=_EMPTY)


class WebCell:
    """A web cell.  Racket: the ``web-cell`` struct.  Compared by identity."""

    __slots__ = ("default", "name", "__weakref__")

    def __init__(self, default: Any, name: str = "") -> None:
        self.default = default
        self.name = name

    def __repr__(self) -> str:
        return f"<web cell {self.name or hex(id(self))}>"


def is_web_cell(value: Any) -> bool:
    """Whether ``value`` is a web cell.  Racket: ``web-cell?``."""
    return isinstance(value, WebCell)


def make_web_cell(default: Any, name: str = "") -> WebCell:
    """A new web cell, bound to ``default`` in the current frame.  Racket:
    ``make-web-cell``.  ``name`` only shows in its ``repr``."""
    cell = WebCell(default, name)
    web_cell_shadow(cell, default)
    return cell


def _check(cell: Any, who: str) -> WebCell:
    if not isinstance(cell, WebCell):
        raise TypeError(f"{who}: expected a web cell (make_web_cell), given "
                        f"{type(cell).__name__} {cell!r}")
    return cell


def web_cell_ref(cell: WebCell) -> Any:
    """The value of ``cell`` in the current frame (the value it was made with when the
    frame does not bind it).  Racket: ``web-cell-ref``."""
    frame = _frame.get()
    try:
        return frame[cell]
    except KeyError:
        return _check(cell, "web_cell_ref").default
    except TypeError:  # not hashable: certainly not a cell
        _check(cell, "web_cell_ref")
        raise


def web_cell_shadow(cell: WebCell, value: Any) -> None:
    """Bind ``cell`` to ``value`` in the current frame, for the pages made from now on.
    Racket: ``web-cell-shadow``."""
    _check(cell, "web_cell_shadow")
    frame = dict(_frame.get())
    frame[cell] = value
    _frame.set(MappingProxyType(frame))


# -- what servlets.stateful calls (Racket: capture-web-cell-set, restore-web-cell-set!) --

def capture() -> Frame:
    """The current frame (immutable: it can be kept with a continuation as it is)."""
    return _frame.get()


def restore(frame: Frame) -> None:
    """Make ``frame`` the current frame."""
    _frame.set(frame)
