"""``python -m diplograph``: the command line, as the ``diplograph`` script runs it."""

from diplograph.cli import main

if __name__ == "__main__":
    main(prog_name="diplograph")
