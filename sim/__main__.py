"""``python -m sim`` runs the procsim command line."""

import sys

from sim.cli import main

sys.exit(main())
