"""Start flowdesk from a checkout: `python main.py` opens the desktop app, `python main.py --help` lists commands."""

from flowdesk.cli import main

raise SystemExit(main())
