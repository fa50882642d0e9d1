"""Packaging lives in setup.cfg; this file adds the compiled modules.

The modules listed in ``dispatch/_build.py`` are compiled with mypyc into C extensions that
sit beside their ``.py`` twins (Python imports an extension before a source file of the
same name).  Compiling is optional: without mypyc, without a C compiler, when mypyc
refuses a module, or with ``GEVENT_DISPATCH_NO_EXTENSIONS=1`` set at build time, the
package builds as pure Python and says so in one line.  With
``GEVENT_DISPATCH_REQUIRE_EXTENSIONS=1`` (CI) a failure to compile fails the build.

mypyc runs only in ``build_ext``, not each time pip asks this file for metadata.
"""
import os
import runpy
import sys
import sysconfig

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = runpy.run_path(os.path.join(HERE, "dispatch", "_build.py"))
MODULES = BUILD["COMPILED"]
LIBRARY = BUILD["LIBRARY"]  # mypyc's name for the group's shared library
REQUIRE = os.environ.get("GEVENT_DISPATCH_REQUIRE_EXTENSIONS") == "1"

try:
    from setuptools.errors import CCompilerError, ExecError, PlatformError
except ImportError:  # setuptools < 59
    from distutils.errors import CCompilerError
    from distutils.errors import DistutilsExecError as ExecError
    from distutils.errors import DistutilsPlatformError as PlatformError

_COMPILE_ERRORS = (CCompilerError, ExecError, PlatformError, OSError)


class BuildFailed(Exception):
    pass


def _pure(reason):
    if REQUIRE:
        raise BuildFailed(f"GEVENT_DISPATCH_REQUIRE_EXTENSIONS=1 and {reason}")
    print(f"WARNING: gevent-dispatch: {reason}; installing pure Python (slower)",
          file=sys.stderr)


class build_mypyc(build_ext):
    """build_ext that runs mypyc first, and falls back to pure Python if anything fails."""

    def run(self):
        self._remove_inplace()  # a stale extension would shadow its newer .py
        extensions = self._fill(self._mypycify())
        self.extensions[:] = extensions
        self.distribution.ext_modules[:] = extensions
        if not extensions:
            return
        inplace = self._inplace()
        try:
            super().run()
        except _COMPILE_ERRORS as exc:
            _pure(f"compiling failed ({str(exc).splitlines()[0] if str(exc) else exc!r})")
            self._remove_built(extensions)
            self._remove_inplace()
            self.extensions[:] = []
            self.distribution.ext_modules[:] = []
            return
        if inplace:
            # Copies keep the build's time, older than a source edited since if the
            # build was skipped as up to date: dispatch._extensions would call it stale.
            for ext in extensions:
                path = os.path.join(HERE, self.get_ext_filename(ext.name))
                if os.path.exists(path):
                    os.utime(path)

    def _inplace(self):
        return bool(self.inplace or getattr(self, "editable_mode", False))

    def _mypycify(self):
        if os.environ.get(BUILD["NO_EXTENSIONS"]) == "1":
            print(f"gevent-dispatch: {BUILD['NO_EXTENSIONS']}=1: pure Python", file=sys.stderr)
            return []
        try:
            from mypyc.build import mypycify
        except ImportError:
            _pure("mypyc is not installed")
            return []
        # (paths from the checkout's root, the working directory of every build, as
        # setup.cfg's are; mypy reads mypy.ini there)
        paths = [BUILD["source_path"](module) for module in MODULES]
        try:
            # Dependencies are typed Any, whether or not the build can see them
            # (--no-site-packages): mypyc calls them through Python either way, and what
            # it compiles must not depend on which versions are installed.  werkzeug
            # 3.0.0's stubs declare Headers a dict subclass; a build that saw them
            # compiled a dict check into response_parts, which then refused every Headers
            # object.  (A new virtualenv has no werkzeug yet when pip builds this; one
            # that is reused has, so the same checkout was built two ways.)  Unused
            # sections of mypy.ini are no error here.
            return mypycify(["--no-site-packages", "--ignore-missing-imports",
                             "--no-warn-unused-configs", *paths],
                            group_name=BUILD["GROUP"], opt_level="3", debug_level="0")
        except (Exception, SystemExit) as exc:  # mypyc exits on what it cannot compile
            _pure(f"mypyc failed ({exc!r})")
            return []

    def _fill(self, generated):
        """The placeholders (which finalize_options has prepared) given what mypyc made
        of each: its sources, include directories and flags."""
        made = {ext.name: ext for ext in generated}
        if not generated:
            return []
        if set(made) != {ext.name for ext in self.extensions}:
            _pure(f"mypyc made {sorted(made)}, not the expected {LIBRARY} and modules")
            return []
        for ext in self.extensions:
            ext.__dict__.update({key: value for key, value in vars(made[ext.name]).items()
                                 if not key.startswith("_")})
        return list(self.extensions)

    def _remove_built(self, extensions):
        for ext in extensions:
            _remove(self.get_ext_fullpath(ext.name))

    def _remove_inplace(self):
        """Remove this Python's extension files from the checkout (in-place builds put
        them there: ``pip install -e .``, ``build_ext --inplace``) when building."""
        if not self._inplace():
            return
        suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
        # (the library is in the package, removed below; earlier builds put it here)
        _remove(os.path.join(HERE, "dispatch__mypyc" + suffix))
        for package in ("dispatch", "servlets"):
            for folder, _, files in os.walk(os.path.join(HERE, package)):
                for name in files:
                    if name.endswith(suffix):
                        _remove(os.path.join(folder, name))


def _remove(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


# Placeholders with the names mypyc will give the extensions: setuptools then knows the
# package has extensions (a platform wheel; in-place copies for editable installs);
# build_mypyc replaces them with mypyc's.
PLACEHOLDERS = [Extension(name, sources=[]) for name in (LIBRARY, *MODULES)]

setup(ext_modules=PLACEHOLDERS, cmdclass={"build_ext": build_mypyc})
