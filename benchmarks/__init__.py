"""The side-by-side benchmark harness (``python -m benchmarks``) and its app."""
