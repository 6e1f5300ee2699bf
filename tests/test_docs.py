"""The README's CLI reference stays in step with --help."""

import os
import re

from click.testing import CliRunner

import cli

README = open(os.path.join(os.path.dirname(__file__), "..", "README.md"), encoding="utf-8").read()


def _options(command):
    names = []
    for param in command.params:
        if param.param_type_name == "option" and "--help" not in param.opts:
            names.append(max(param.opts, key=len))
            names.extend(o for o in param.secondary_opts)
    return names


def test_every_command_and_option_is_in_the_readme():
    reference = README[README.index("## CLI reference"):]
    for name, command in cli.main.commands.items():
        row = next((line for line in reference.splitlines() if line.startswith(f"| `tracer {name}")), None)
        assert row, f"README's CLI reference has no row for `tracer {name}`"
        for opt in _options(command):
            assert opt in row, f"`tracer {name} {opt}` is missing from README's CLI reference"
    top = next(line for line in reference.splitlines() if line.startswith("| `tracer [global options]"))
    for opt in _options(cli.main):
        assert opt in top, f"global option {opt} is missing from README's CLI reference"


def test_every_readme_command_exists():
    for name in set(re.findall(r"`tracer ([a-z]+)", README)):
        assert name in cli.main.commands, f"README mentions `tracer {name}`, which does not exist"


def test_readme_names_the_two_setup_commands():
    assert "pip install . && tracer demo" in README
    assert "bash scripts/test" in README
    assert "bash scripts/test" in open(os.path.join(os.path.dirname(__file__), "..", ".ci", "run")).read()


def test_every_command_has_help_text():
    runner = CliRunner()
    for name, command in cli.main.commands.items():
        assert command.help and len(command.help) > 40, name
        assert runner.invoke(cli.main, [name, "--help"]).exit_code == 0


def test_the_library_in_ten_lines_runs(tmp_path, monkeypatch):
    import shutil

    block = README[README.index("## The library in ten lines"):]
    code = block[block.index("```python") + len("```python"):]
    code = code[: code.index("```")]
    assert len([line for line in code.strip().splitlines() if line.strip()]) <= 14
    shutil.copy(os.path.join(os.path.dirname(__file__), "data", "presences_small.csv"), tmp_path / "presences.csv")
    monkeypatch.chdir(tmp_path)
    scope = {}
    exec(compile(code, "README.md", "exec"), scope)
    result = scope["result"]
    assert len(result.contacts) == 4 and scope["g"].number_of_nodes() > 4
