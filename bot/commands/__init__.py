"""The commands, buttons and forms, each module registering its own."""

from __future__ import annotations

from bot.app import Registry

from . import (
    book,
    capture,
    client,
    due,
    help,
    match,
    matter,
    owner,
    portfolio,
    profile,
    repair,
    settings,
    touch,
)

MODULES = (
    touch,
    client,
    due,
    portfolio,
    repair,
    matter,
    match,
    owner,
    profile,
    book,
    settings,
    capture,
    help,
)


def default_registry() -> Registry:
    registry = Registry()
    for module in MODULES:
        module.register(registry)
    return registry
