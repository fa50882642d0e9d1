"""The manager that keeps no continuations.  Racket: ``web-server/managers/none``.

Every instance exists only for its first request: a servlet that tries to suspend
(``send_suspend`` and friends) gets its expiration handler's page instead, and every
continuation URL is expired.
"""
from __future__ import annotations

from .manager import ExpirationHandler, Manager, NoInstance, new_id

__all__ = ["create_none_manager", "make_none_manager", "NoneManager"]


class NoneManager(Manager):
    def __init__(self, instance_expiration_handler: ExpirationHandler) -> None:
        self.instance_expiration_handler = instance_expiration_handler

    def create_instance(self, expire_fn) -> str:
        return new_id()

    def _no(self, instance_id: str):
        raise NoInstance(f"No instance for id: {instance_id}", self.instance_expiration_handler)

    def clear_continuations(self, instance_id):
        self._no(instance_id)

    def continuation_store(self, instance_id, k, expiration_handler):
        self._no(instance_id)

    def continuation_lookup(self, instance_id, k_id, salt):
        self._no(instance_id)

    continuation_peek = continuation_lookup


def create_none_manager(instance_expiration_handler: ExpirationHandler) -> NoneManager:
    """Racket: ``create-none-manager``."""
    return NoneManager(instance_expiration_handler)


#: The name the issue uses.
make_none_manager = create_none_manager
