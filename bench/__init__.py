"""`make bench`: kana-server measured against a minimal Starlette + SQLite floor in the same run.

`python -m bench --help` lists the options; `bench/README.md` explains the method.
"""
