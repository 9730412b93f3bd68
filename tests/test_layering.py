"""rechain.model never imports rechain.solvers: solving sits on top of the model."""

import subprocess
import sys


def test_the_model_package_does_not_import_the_solvers():
    code = (
        "import importlib, pkgutil, sys\n"
        "import rechain.model as m\n"
        "for info in pkgutil.iter_modules(m.__path__):\n"
        "    importlib.import_module('rechain.model.' + info.name)\n"
        "bad = sorted(k for k in sys.modules if k.startswith('rechain.solvers'))\n"
        "print(bad)\n"
        "assert not bad, bad\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
