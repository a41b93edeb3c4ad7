"""Benchmarks: each script measures our pipeline and a baseline in the same run.

See benchmarks/README.md. Run a script directly (``python benchmarks/ingest.py``) or all
of them with ``python benchmarks/run.py``.
"""
