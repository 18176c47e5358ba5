"""One migration per file, `NNNN_what_it_does.py`, revision id NNNN (see docs/architecture.md)."""
