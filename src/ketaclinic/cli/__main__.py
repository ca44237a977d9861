"""``python -m ketaclinic.cli``: the ``ketaclinic`` command, from this Python (used by the restore drill)."""

from ketaclinic.cli import main

raise SystemExit(main())
