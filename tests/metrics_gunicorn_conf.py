"""gunicorn's configuration in test_metrics (``-c python:tests.metrics_gunicorn_conf``):
a dead worker's open connections stop counting."""
from dispatch.metrics import child_exit  # noqa: F401 (gunicorn reads the module's names)
