"""A tiny string-keyed registry shared by drift methods and checks.

Implementations live one per module and register themselves on import; callers resolve them by
name (or alias, e.g. SageMaker's "Robust" for `linf_robust`). An unknown name raises a
`ConfigError` that lists the registry's own keys, so error messages never drift from the code.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

from monitor_service.errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """Ordered name -> implementation map with optional aliases."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._items: dict[str, T] = {}
        self._aliases: dict[str, str] = {}

    def register(self, name: str, item: T, aliases: tuple[str, ...] = ()) -> T:
        """Add `item` under `name` (and `aliases`); a clash is a programming error."""
        for key in (name, *aliases):
            if key in self._items or key in self._aliases:
                raise ValueError(f"{self.what} {key!r} is registered twice")
        self._items[name] = item
        for alias in aliases:
            self._aliases[alias] = name
        return item

    def canonical(self, name: str) -> str:
        """The registered name for `name` or one of its aliases."""
        key = self._aliases.get(name, name)
        if key not in self._items:
            aliases = f" or an alias {sorted(self._aliases)}" if self._aliases else ""
            raise ConfigError(f"unknown {self.what} {name!r}", hint=f"use one of {self.names()}{aliases}")
        return key

    def get(self, name: str) -> T:
        return self._items[self.canonical(name)]

    def names(self) -> list[str]:
        """Canonical names in registration order."""
        return list(self._items)

    def aliases(self) -> dict[str, str]:
        return dict(self._aliases)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (name in self._items or name in self._aliases)

    def __iter__(self) -> Iterator[T]:
        return iter(self._items.values())
