"""`python -m execeval.cli`."""

import sys

from execeval.cli.main import main

sys.exit(main())
