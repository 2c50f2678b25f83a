"""``serve --workers N``: N processes answering on one listening socket, sharing ``--state``.

uvicorn's ``Multiprocess`` supervisor starts each worker with multiprocessing's spawn: the
worker gets the uvicorn config by pickle and builds its app in its own process. A closure
over the settings cannot be pickled, and a module-level app would exist at import time, so
the config's app is a ``WorkerApp``: a picklable factory holding the settings, which uvicorn
calls (``factory=True``) once in each worker. The supervisor keeps the socket bound; a worker
that dies is started again. A worker whose supervisor is gone (killed with -9) stops itself
rather than answer on, holding the port, as an orphan.
"""

from __future__ import annotations

import gc
import os
import signal
import threading
import time
from dataclasses import dataclass
from typing import Any

from mockserver.settings import Settings

ACCESS_LOG_LEVELS = ("info", "debug", "trace")
ORPHAN_CHECK_S = 0.5


def served(app: Any, settings: Settings) -> Any:
    """The app as a process serves it: at the levels that log requests, behind the cheap
    access log (``mockserver.http.access_log``) instead of uvicorn's."""
    from mockserver.http.access_log import AccessLog

    return AccessLog(app) if settings.log_level in ACCESS_LOG_LEVELS else app


@dataclass(frozen=True)
class WorkerApp:
    """The app factory of one worker: the same settings build the same mock in each."""

    settings: Settings

    def __call__(self) -> Any:
        from mockserver.app import create_app

        app = served(create_app(self.settings), self.settings)
        watch_supervisor(os.getppid())
        # As in one process: what start-up made stays out of the collector's walks.
        gc.freeze()
        return app


def watch_supervisor(supervisor: int) -> None:
    """Stop this worker (as SIGTERM does: answers in progress finish) once its supervisor
    has gone, which a ``kill -9`` of the supervisor leaves no one else to do."""

    def watch() -> None:
        while os.getppid() == supervisor:
            time.sleep(ORPHAN_CHECK_S)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="avara-mock-supervisor-watch", daemon=True).start()
