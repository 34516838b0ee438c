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


def test_import_loads_nothing_but_the_package() -> None:
    # Import time is a benchmark figure (`cargo xtask bench`); what keeps it low is that the
    # import pulls in no other module (typing alone costs ~10 ms), which a test can hold.
    code = (
        "import sys; before = set(sys.modules); import hwc_workspace; "
        "print(sorted(set(sys.modules) - before))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "['hwc_workspace', 'hwc_workspace._native']"


def test_error_classes_load_on_first_use() -> None:
    code = (
        "import sys, hwc_workspace as hw; assert 'hwc_workspace._errors' not in sys.modules; "
        "print(hw.NotFoundError.__module__, issubclass(hw.NotFoundError, hw.ApiError))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.split() == ["hwc_workspace._errors", "True"]


def test_package_docstring_example_runs() -> None:
    import doctest

    failures, tried = doctest.testmod(hw, verbose=False)
    assert tried > 0 and failures == 0
