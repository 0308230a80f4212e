"""`python -m vcctl`."""

from vcctl.cli import main

if __name__ == "__main__":
    main()
