"""What an x-expression holds besides text, character numbers and elements: Racket's
``cdata``, ``comment`` and ``p-i`` structs from ``xml``, and ``exn:invalid-xexpr``.

Apart from the writer (:mod:`dispatch.http.xexpr_writer`) because that one is compiled:
mypyc tests ``isinstance`` against a class of a compiled module by its exact type, and a
user's subclass of :class:`CData` must still be written as CData.  Import them from
:mod:`dispatch.http.xexpr`.
"""
from __future__ import annotations

from typing import Union

__all__ = ["CData", "Comment", "InvalidXexpr", "PI", "Xexpr"]


class CData(str):
    """Text written without escaping.  Racket: ``cdata``.  Jinja (markupsafe) takes it
    as safe HTML too: ``{{ CData(xexpr_to_string(x)) }}`` is not escaped again."""

    def __html__(self) -> str:
        return str(self)


class Comment(str):
    """An HTML comment, ``<!--text-->``.  Racket: ``comment``."""


class PI:
    """A processing instruction, ``<?target instruction?>``.  Racket: ``p-i``."""

    __slots__ = ("target", "instruction")

    def __init__(self, target: str, instruction: str) -> None:
        self.target, self.instruction = target, instruction

    def __repr__(self) -> str:
        return f"PI({self.target!r}, {self.instruction!r})"


class InvalidXexpr(TypeError, ValueError):
    """Not an x-expression.  Racket: ``exn:invalid-xexpr``.  ``node`` is the offending
    part, ``path`` the tags of the elements around it, outermost first."""

    path: list

    def __init__(self, problem: str, node: object) -> None:
        super().__init__(problem)
        self.problem, self.node, self.path = problem, node, []

    def __str__(self) -> str:
        where = " in <" + "> <".join(reversed(self.path)) + ">" if self.path else ""
        return f"not an x-expression{where}: {self.problem}"


Xexpr = Union[str, int, CData, Comment, PI, tuple, list]
