"""Tests that run real external tools or subprocess installs (a virtualenv pip install, promtool, a
measured child interpreter): slower than tests/unit, no cluster needed."""
