"""Collaboration platform latency and throughput (issue #5): the measurements are in
``_platform.py``; this file, named as the issue asks, only launches them.

    .venv/bin/python benchmarks/platform.py [--organisations 10000] [--posts 20000]
        [--clients 50] [--seconds 20] [--workers 2]

The name is the standard library's ``platform``, and a script's folder comes first on the
import path, so: run as a script, this file takes its folder off the path and runs
``_platform.py``; imported as ``platform`` by another script of this folder (numpy and
SQLAlchemy import ``platform``), it loads the standard library's module in its place.
"""

import sys
from pathlib import Path

if __name__ == "__main__":
    import runpy

    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    runpy.run_path(str(here / "_platform.py"), run_name="__main__")
else:  # imported as `platform`: become the standard library's module
    import importlib.util
    import sysconfig

    _spec = importlib.util.spec_from_file_location(
        "platform", Path(sysconfig.get_paths()["stdlib"]) / "platform.py"
    )
    _module = importlib.util.module_from_spec(_spec)
    sys.modules[__name__] = _module  # what `import platform` hands to the importer
    _spec.loader.exec_module(_module)
