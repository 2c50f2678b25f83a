"""avara-mock's server: an offline mock of the Avara Viewer API, driven by schemas/."""

from mockserver.app import create_app
from mockserver.settings import Settings

__all__ = ["Settings", "create_app"]
