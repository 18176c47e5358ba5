"""`python -m kana_server` runs the command line."""

from kana_server.cli import main

main()
