"""``python -m contract_tests``: the same as the ``avara-mock`` command."""

from contract_tests.cli import main

raise SystemExit(main())
