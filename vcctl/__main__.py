"""`python -m vcctl`."""

from vcctl.cli.main import main

if __name__ == "__main__":
    main()
