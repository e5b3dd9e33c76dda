"""``python -m ksm_py`` (same as the ``ksm-py`` console script)."""

import sys

from ksm_py.main import main

sys.exit(main())
