"""Standard-library modules that typer, click and requests import but a short run never uses,
loaded on first use instead of at start-up.

`defer()` (called by the entry point, `vcctl.__main__`, before the CLI is imported) puts a
stand-in for each module of `DEFERRED` into `sys.modules`. An `import X` elsewhere then binds
the stand-in, and the module's code runs the first time anything reads an attribute of it
(`X.run`, a `from X import name`, `dir(X)`); after that it is the ordinary module, the same
object. A run that never touches one (`rooms get ID --json`) never pays for it.

Rules for a module on the list (tests/test_deferred_modules.py checks them):
- pure Python, found by the ordinary path finder (an extension module cannot be run into an
  existing module object), and not a package;
- importing it cannot fail, since a failure would surface at first use instead of at the import
  (`try: import lzma except ImportError` in shutil would be fooled);
- what imports it on the start-up path only reads its attributes inside functions, not while
  being imported (otherwise it is loaded at once and deferring it gains nothing; the test of
  what `rooms get --json` loads notices).

The first use is thread-safe: a lock per module, so a second thread reading an attribute waits
for the module to be whole (importlib.util.LazyLoader lets it see a half-run module on Python
3.11), and first uses of two modules in two threads never wait for each other.
"""

from __future__ import annotations

import sys
import threading
import types
from collections.abc import Mapping
from importlib.machinery import PathFinder, SourceFileLoader
from importlib.util import module_from_spec
from typing import Any, cast

# Each with who imports it at start-up and what for (none of it runs on a short command), and
# the extension module its import needs, if any: without it the module is imported as usual, so
# that an ImportError comes where it is expected.
DEFERRED: dict[str, str | None] = {
    "subprocess": None,  # typer: an editor, a pager, installing completion
    "linecache": None,  # traceback, inspect: the source lines of a traceback
    "tokenize": None,  # linecache, inspect: reading source files
    "bz2": "_bz2",  # shutil: archives
    "lzma": "_lzma",  # shutil: archives
    "mimetypes": None,  # urllib3: the content type of a file upload
    "hmac": None,  # urllib3: certificate fingerprints
    "zipfile": None,  # importlib.metadata: distributions in zip files
    "struct": None,  # base64: base85
    "stringprep": None,  # the idna codec: non-ASCII host names
    "csv": None,  # vcctl.output.formats: -o csv and tsv
    "shlex": None,  # vcctl.inventory.scopes: quoting a scope in a message
}

_locks: dict[str, threading.RLock] = {}  # one per stand-in, made with it by defer()
_loading: set[str] = set()


class DeferredModule(types.ModuleType):
    """A module whose code has not run yet: reading a missing attribute runs it."""

    def __getattr__(self, name: str) -> object:
        load(self)
        return object.__getattribute__(self, name)

    def __dir__(self) -> list[str]:
        load(self)
        return list(self.__dict__)


def load(module: types.ModuleType) -> None:
    """Run a deferred module's code into it (once; at once if another thread is doing it)."""
    name = module.__name__
    # One lock per module, as importlib has: a first use that imports, while another thread's
    # import uses another deferred module, must not wait on a lock that thread needs.
    with _locks[name]:  # only a stand-in calls this, and defer() gave each its lock
        if not isinstance(module, DeferredModule) or name in _loading:
            return  # loaded already, or its own code is reading it while it runs
        _loading.add(name)
        try:
            spec = module.__spec__
            assert spec is not None
            assert spec.loader is not None
            spec.loader.exec_module(module)
            cast(Any, module).__class__ = types.ModuleType  # an ordinary module from now on
        finally:
            _loading.discard(name)


def defer(modules: Mapping[str, str | None] = DEFERRED) -> None:
    """Put a stand-in into sys.modules for each module not imported yet."""
    for name, needs in modules.items():
        if name in sys.modules or (needs is not None and _missing(needs)):
            continue
        spec = PathFinder.find_spec(name)
        if spec is None or not isinstance(spec.loader, SourceFileLoader):
            continue  # not there, or not plain source: imported as usual when asked for
        if spec.submodule_search_locations is not None:
            continue  # a package
        module = module_from_spec(spec)
        module.__class__ = DeferredModule
        _locks[name] = threading.RLock()
        sys.modules[name] = module


def _missing(extension: str) -> bool:
    return extension not in sys.builtin_module_names and PathFinder.find_spec(extension) is None


def is_deferred(module: object) -> bool:
    """True for a stand-in whose code has not run (so `name in sys.modules` says nothing)."""
    return isinstance(module, DeferredModule)
