"""``python -m gnssaug``: the same entry point as the ``gnssaug`` command."""

import sys

from gnssaug.cli import main

sys.exit(main())
