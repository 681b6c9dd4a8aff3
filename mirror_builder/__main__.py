"""Entry point: ``python3 -m mirror_builder`` from the collection root, or ``python3 PATH/mirror_builder``."""

import os
import sys

if not __package__:  # run as a directory: make its parent (the collection root) importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from mirror_builder.cli import main  # noqa: E402 - after the path is set

sys.exit(main())
