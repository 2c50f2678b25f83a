"""avara-mock's server: an offline mock of the Avara Viewer API, driven by schemas/.

``create_app`` and ``Settings`` load on first use, so that importing a submodule (the pytest
plugin, at every pytest start) does not import Starlette.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mockserver.app import create_app
    from mockserver.settings import Settings

__all__ = ["Settings", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from mockserver.app import create_app

        return create_app
    if name == "Settings":
        from mockserver.settings import Settings

        return Settings
    raise AttributeError(f"module 'mockserver' has no attribute {name!r}")
