"""The builder in a Hugo site laid out as Docker's docs are: params from the page and
the site, pages built from the site's root, notebooks that need no setup to read, and a
setup cell that finds its lesson wherever the page was."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dockdojo.runner.cli import main
from dockdojo.runner.lessons import load_lesson

STEP = """
```{step} pull-nginx
title: Pull nginx
action: pull
images: [nginx]
checks:
  - check: image_present
    image: nginx
    hint: Pull nginx.
```
"""


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")


def cells(notebook: Path) -> list[dict[str, object]]:
    data: list[dict[str, object]] = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return data


def text_of(notebook: Path) -> str:
    return "\n\n".join("".join(c["source"]) for c in cells(notebook))  # type: ignore[arg-type]


def test_params_come_from_the_page_then_the_site_and_unknown_ones_are_warned(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        tmp_path,
        {
            "hugo.toml": '[params]\nexample_go_version = "1.23"\n[params.docker]\nce = "27.1"\n',
            "content/go.md": (
                "---\ntitle: Go\nparams:\n  arch: arm64\nchannel: stable\n---\n"
                "Get [Go {{% param example_go_version %}}](https://go.dev/dl/"
                'go{{% param "example_go_version" %}}.{{< param arch >}}.tar.gz).\n\n'
                "```console\n$ apt-get install docker-ce={{% param docker.ce %}} "
                '# {{% param "channel" %}}\nFROM golang:{{% param nope %}}\n```\n\n'
                "Map: {{% param docker %}}.\n"
            ),
        },
    )
    out = tmp_path / "out"
    assert main(["build", str(tmp_path), "--out", str(out)]) == 0
    text = text_of(out / "go.ipynb")
    assert "[Go 1.23](https://go.dev/dl/go1.23.arm64.tar.gz)" in text
    assert "apt-get install docker-ce=27.1 # stable" in text
    assert "FROM golang:⟨param nope⟩" in text
    err = capsys.readouterr().err
    assert (
        f"{tmp_path / 'content/go.md'}:11: warning: param 'nope' is in neither the page's "
        "front matter nor the site's params; shown as ⟨param nope⟩"
    ) in err
    assert "go.md:14: warning: param 'docker' in the site is a map, not a value" in err


def test_a_plain_build_in_a_hugo_site_builds_every_page_under_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        tmp_path,
        {
            "hugo.yaml": "title: site\n",
            "content/_index.md": "# Home\n",
            "content/guides/_index.md": "# Guides\n",
            "content/guides/one.md": "# One\n",
            "content/guides/_includes/shared.md": "Shared.\n",
            "content/includes/also-shared.md": "Shared too.\n",
            "content/guides/README.md": "# Not a page\n",
        },
    )
    monkeypatch.chdir(tmp_path)
    assert main(["build"]) == 0
    assert sorted(p.name for p in Path("lessons").iterdir()) == [
        "guides.ipynb",
        "home.ipynb",
        "one.ipynb",
    ]


def test_a_reading_page_has_no_setup_cell(tmp_path: Path) -> None:
    write(tmp_path, {"tmpfs.md": "# tmpfs mounts\n\nRead this.\n"})
    out = tmp_path / "out"
    assert main(["build", str(tmp_path / "tmpfs.md"), "--out", str(out)]) == 0
    assert [c["cell_type"] for c in cells(out / "tmpfs.ipynb")] == ["markdown", "markdown"]
    assert "LessonView" not in text_of(out / "tmpfs.ipynb")


def test_a_page_built_outside_content_is_found_by_its_setup_cell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The setup cell names the page by its path from the notebook's folder, where the
    kernel runs; a lesson in a content/ folder keeps being named by its id."""
    write(tmp_path, {"site/hugo.yaml": "", "site/content/guides/pulling.md": f"# Pulling\n{STEP}"})
    out = tmp_path / "notebooks"
    assert main(["build", str(tmp_path / "site"), "--out", str(out)]) == 0
    setup = "".join(cells(out / "pulling.ipynb")[1]["source"])  # type: ignore[arg-type]
    assert "LessonView('../site/content/guides/pulling.md')" in setup
    monkeypatch.chdir(out)
    reference = setup.split("LessonView(")[1].split(")")[0].strip("'")
    assert [s.id for s in load_lesson(reference).steps] == ["pull-nginx"]
    write(tmp_path, {"site/content/other/pulling.md": f"# Pulling again\n{STEP}"})
    assert load_lesson("../site/content/guides/pulling.md").id == "guides--pulling"
    seed = Path(__file__).resolve().parents[2] / "lessons" / "what-is-an-image.ipynb"
    assert "LessonView('what-is-an-image')" in text_of(seed)


def test_a_section_lists_its_pages_and_each_page_links_the_previous_and_next(
    tmp_path: Path,
) -> None:
    """Hugo's order: weighted pages first by weight, then the others by title."""
    write(
        tmp_path,
        {
            "hugo.yaml": "",
            "content/guide/_index.md": "---\ntitle: Guide\n---\nThe guide.\n",
            "content/guide/zeta.md": "---\ntitle: Zeta\nweight: 10\n---\nZ.\n",
            "content/guide/alpha.md": "---\ntitle: Alpha\nweight: 20\n---\nA.\n",
            "content/guide/beta.md": "---\ntitle: Beta\ndescription: The b.\n---\nB.\n",
            "content/guide/more/_index.md": "---\ntitle: More\nweight: 30\n---\nM.\n",
        },
    )
    out = tmp_path / "out"
    assert main(["build", str(tmp_path), "--out", str(out)]) == 0
    last = "".join(cells(out / "guide.ipynb")[-1]["source"])  # type: ignore[arg-type]
    assert last == (
        "---\n\n**In this section**\n\n"
        "- [**Zeta**](zeta.ipynb)\n- [**Alpha**](alpha.ipynb)\n"
        "- [**More**](more.ipynb)\n- [**Beta**](beta.ipynb): The b."
    )
    alpha = "".join(cells(out / "alpha.ipynb")[-1]["source"])  # type: ignore[arg-type]
    assert alpha == "---\n\n← Previous: [Zeta](zeta.ipynb) · Next: [More](more.ipynb) →"
    beta = "".join(cells(out / "beta.ipynb")[-1]["source"])  # type: ignore[arg-type]
    assert beta == "---\n\n← Previous: [More](more.ipynb)"


def test_links_to_headings_use_the_ids_jupyter_gives_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        tmp_path,
        {
            "hugo.yaml": "",
            "content/a.md": (
                "# Page A\n\n## Run the Container\n\n### Step 2: Build it {#build}\n\n"
                "See [run](#run-the-container), [build](#build), [B's part](b.md#use-docker-ps)"
                " and [nothing](#no-such-heading).\n\n## On Mac (Apple silicon)\n\n"
                "See [Mac](#on-mac-apple-silicon).\n"
            ),
            "content/b.md": "# Page B\n\n## Use `docker ps`\n\nBack to [A](a.md#page-a).\n",
        },
    )
    out = tmp_path / "out"
    assert main(["build", str(tmp_path), "--out", str(out), "--report"]) == 0
    text = text_of(out / "a.ipynb")
    assert "[run](#Run-the-Container)" in text
    assert "[build](#Step-2:-Build-it)" in text
    assert "[B's part](b.ipynb#Use-docker-ps)" in text
    assert "[nothing](#no-such-heading)" in text
    assert "[Mac](#On-Mac-%28Apple-silicon%29)" in text
    assert "[A](a.ipynb#Page-A)" in text_of(out / "b.ipynb")
    report = capsys.readouterr().out
    assert "link to a heading (Hugo's id -> Jupyter's): 4 (line 7, 11)" in report
    assert "content/a.md:7: link to #no-such-heading names no heading of this page; kept" in report


def test_a_broken_site_configuration_is_named_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        tmp_path,
        {
            "hugo.yaml": "title: x\nparams:\n  a: [unclosed\n",
            "content/page.md": "# Page\n\nVersion {{% param a %}}.\n",
        },
    )
    assert main(["build", str(tmp_path), "--out", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert f"{tmp_path / 'hugo.yaml'}:4: " in err
    assert "the site's params are not used" in err
    assert "content/page.md:3: warning: param 'a' is in neither" in err


def test_building_imports_no_nbformat() -> None:
    """nbformat's import (jsonschema and its format checkers) takes longer than a build."""
    code = (
        "import sys, tempfile\n"
        "from dockdojo.runner.cli import main\n"
        "page = 'tests/unit/builder_cases/ok/callouts.md'\n"
        "assert main(['build', page, '--out', tempfile.mkdtemp()]) == 0\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('nbformat', 'jsonschema')))\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_cards_and_accordions_render_and_an_unclosed_accordion_is_warned(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        tmp_path,
        {
            "page.md": (
                '# Page\n\n{{< card title="Get Docker" description="Install it." '
                'link="https://docs.docker.com/get-docker/" >}}\n\n'
                '{{< accordion title="Why `docker`?" >}}\nBecause **it** runs.\n'
                "{{< /accordion >}}\n\n{{< /accordion >}}\n\n"
                '{{< accordion title="Left open" >}}\nText.\n'
            ),
        },
    )
    out = tmp_path / "out"
    assert main(["build", str(tmp_path / "page.md"), "--out", str(out)]) == 0
    text = text_of(out / "page.ipynb")
    assert "- [**Get Docker**](https://docs.docker.com/get-docker/): Install it." in text
    assert (
        "<details>\n<summary>Why <code>docker</code>?</summary>\n\nBecause **it** runs.\n\n"
        "</details>"
    ) in text
    err = capsys.readouterr().err
    assert "page.md:9: warning: {{< /accordion >}} closes no accordion; left out" in err
    assert "page.md:11: warning: {{< accordion >}} is not closed with {{< /accordion >}}" in err
