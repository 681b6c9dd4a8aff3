"""Entry point: ``python -m lab.artifacts``."""

import sys

from lab.artifacts.cli import main

sys.exit(main())
