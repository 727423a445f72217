"""`python -m preserve` runs the command line."""

from preserve.cli.main import main

main()
