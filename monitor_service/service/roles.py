"""The roles of an API key, kept free of heavy imports so the command line can offer them as choices.

`read` keys can query everything; `admin` keys can also change things.
"""

from __future__ import annotations

from typing import Literal, get_args

Role = Literal["read", "admin"]
ROLES: tuple[str, ...] = get_args(Role)
