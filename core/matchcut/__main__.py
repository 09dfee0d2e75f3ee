"""`python -m matchcut` runs the CLI."""

from matchcut.cli.app import main

main()
