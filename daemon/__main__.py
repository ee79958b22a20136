"""`python -m daemon` is the same as the `tradebotd` console script."""

from daemon.cli import main

raise SystemExit(main())
