"""The former name of `python -m vcctl.docs`, kept so that `python -m vcctl.gendocs` still works."""

from vcctl.docs.__main__ import main

if __name__ == "__main__":
    raise SystemExit(main())
