"""``python -m ksm_py``: patch the standard library for gevent before anything imports ssl."""

from gevent import monkey

monkey.patch_all()

import sys  # noqa: E402

from ksm_py.cli import main  # noqa: E402

sys.exit(main())
