"""`python -m acuity_sync_toolkit.cli`: the same as `acuity-sync`."""

import sys

from acuity_sync_toolkit.cli.main import main

sys.exit(main())
