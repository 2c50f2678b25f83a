"""``python -m mockserver``: the same as the ``avara-mock`` command."""

from mockserver.cli import main

raise SystemExit(main())
