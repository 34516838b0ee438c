"""What the installed package offers: the public names, the private compiled module, the
stubs and the typing marker."""

from __future__ import annotations

import importlib.resources
import subprocess
import sys

import hwc_workspace as hw


def test_all_names_exist_and_are_public() -> None:
    assert sorted(hw.__all__) == sorted(set(hw.__all__))
    for name in hw.__all__:
        assert hasattr(hw, name), name
    for cls in (hw.Client, hw.AsyncClient, hw.Simulator, hw.Deleted, hw.Job):
        assert cls.__module__ == "hwc_workspace"
    assert hw.__version__ == "0.1.0"


def test_stubs_and_typing_marker_ship() -> None:
    files = importlib.resources.files("hwc_workspace")
    assert files.joinpath("py.typed").is_file()
    assert files.joinpath("_native.pyi").is_file()
    assert hw._native.__file__.endswith((".so", ".pyd"))  # type: ignore[attr-defined]


def test_import_is_fast_and_light() -> None:
    code = "import time; t = time.perf_counter(); import hwc_workspace; print(time.perf_counter() - t)"
    seconds = float(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout)
    assert seconds < 0.5


def test_package_docstring_example_runs() -> None:
    import doctest

    failures, tried = doctest.testmod(hw, verbose=False)
    assert tried > 0 and failures == 0
