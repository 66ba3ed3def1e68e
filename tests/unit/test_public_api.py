import dockdojo.runner as runner


def test_all_names_exist_and_nothing_public_is_missing_from_all() -> None:
    for name in runner.__all__:
        assert hasattr(runner, name), name
    import types

    public = {n for n, v in vars(runner).items()
              if not n.startswith("_") and not isinstance(v, types.ModuleType)}
    assert public == set(runner.__all__)


def test_runner_does_not_import_ipywidgets() -> None:
    import subprocess
    import sys

    code = ("import sys, dockdojo.runner, dockdojo.runner.cli; "
            "print('ipywidgets' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
