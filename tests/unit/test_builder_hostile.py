"""The builder on pages written to attack it: an author's pull request, or a page copied
from elsewhere, must not make ``dockdojo build`` read files outside the site, and every
refusal is a ``file:line`` problem that says what happened and what to do, with exit
code 1 and no traceback. (Inputs that could hang or fill the memory when a guard is
missing are built in a subprocess with bounds: ``test_builder_bombs.py``.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dockdojo.runner.authoring.includes import MAX_INCLUDED
from dockdojo.runner.cli import main

SECRET = "top-secret-value-1234"


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A Hugo site (``hugo.yaml``, ``content/``) with a secret file beside it, as cwd."""
    (tmp_path / "site" / "content" / "guide").mkdir(parents=True)
    (tmp_path / "site" / "hugo.yaml").write_text("title: docs\n")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.md").write_text(SECRET + "\n")
    monkeypatch.chdir(tmp_path / "site")
    return tmp_path / "site"


def page(site: Path, body: str, name: str = "guide/page.md") -> str:
    path = site / "content" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"# Page\n\n{body}\n", encoding="utf-8")
    return f"content/{name}"


def build(capsys: pytest.CaptureFixture[str], *paths: str) -> tuple[int, str]:
    """``dockdojo build PATHS --out out``: the exit code, and stderr (no traceback)."""
    code = main(["build", *paths, "--out", "out"])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    return code, captured.err


def built_text(name: str = "page") -> str:
    cells = json.loads(Path(f"out/{name}.ipynb").read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells)


# includes ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("/etc/hostname", "is not a name inside the include folders"),
        ("../../../outside/secret.md", "leads outside the include folders"),
        ("../../etc/passwd", "leads outside the include folders"),
        ("", "is not a name inside the include folders"),
    ],
    ids=["absolute", "dotdot-to-secret", "dotdot-to-passwd", "empty"],
)
def test_an_include_outside_the_include_folders_is_refused(
    site: Path, capsys: pytest.CaptureFixture[str], name: str, says: str
) -> None:
    (site / "content" / "guide" / "_includes").mkdir()  # the folder ../ would start from
    source = page(site, f'Before.\n\n{{{{< include "{name}" >}}}}\n')
    code, err = build(capsys, source)
    assert code == 1
    assert f"{source}:5: included page {name!r} {says}" in err
    assert "name a file" in err
    assert "nothing was written" in err
    assert not Path("out").exists()


def test_a_link_in_an_include_folder_to_a_file_outside_is_refused(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = site / "content" / "includes"
    folder.mkdir()
    (folder / "secret.md").symlink_to(site.parent / "outside" / "secret.md")
    (folder / "zero.md").symlink_to("/dev/zero")
    source = page(site, '{{< include "secret.md" >}}\n\n{{< include "zero.md" >}}\n')
    code, err = build(capsys, source)
    assert code == 1
    leads = "leads outside content/includes/ (to"
    assert f"{source}:3: included page 'secret.md' {leads} {site.parent}/outside/secret.md)" in err
    assert f"{source}:5: included page 'zero.md' {leads} /dev/zero)" in err
    assert "include only files inside it" in err


def test_dotdot_after_a_linked_folder_is_judged_by_where_it_really_leads(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``sub/../secret.md`` looks like ``secret.md``, but ``sub`` is a link to a folder
    outside, so the kernel reads ``outside/secret.md``."""
    (site.parent / "outside" / "deep").mkdir()
    folder = site / "content" / "includes"
    folder.mkdir()
    (folder / "sub").symlink_to(site.parent / "outside" / "deep")
    source = page(site, '{{< include "sub/../secret.md" >}}\n')
    code, err = build(capsys, source)
    assert code == 1
    assert "included page 'sub/../secret.md' leads outside content/includes/" in err


def test_an_include_folder_that_links_outside_the_site_is_refused(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (site / "content" / "guide" / "_includes").symlink_to(site.parent / "outside")
    source = page(site, '{{< include "secret.md" >}}\n')
    code, err = build(capsys, source)
    assert code == 1
    assert (
        f"{source}:3: included page 'secret.md' is in content/guide/_includes/, which is a "
        f"link to {site.parent / 'outside'}; make the include folder a real folder"
    ) in err


def test_an_include_folder_that_links_to_the_repository_is_refused(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Inside the site, but a way to the checkout's ``.git/config`` (and its token)."""
    (site / ".git").mkdir()
    (site / ".git" / "config").write_text(SECRET + "\n")
    (site / "content" / "includes").symlink_to("..")
    source = page(site, '{{< include ".git/config" >}}\n')
    code, err = build(capsys, source)
    assert code == 1
    assert (
        f"{source}:3: included page '.git/config' is in content/includes/, which is a link "
        f"to {site}; make the include folder a real folder"
    ) in err
    assert SECRET not in err


def test_an_include_that_is_a_loop_of_links_is_refused(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (site / "content" / "includes").mkdir()
    (site / "content" / "includes" / "loop.md").symlink_to("loop.md")
    source = page(site, '{{< include "loop.md" >}}\n')
    code, err = build(capsys, source)
    assert code == 1
    assert (
        f"{source}:3: included page 'loop.md' is a symbolic link that leads back to itself; "
        "point it at a Markdown file"
    ) in err


def test_an_include_that_is_a_folder_is_refused(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (site / "content" / "includes" / "folder.md").mkdir(parents=True)
    source = page(site, '{{< include "folder.md" >}}\n')
    code, err = build(capsys, source)
    assert code == 1
    assert (
        f"{source}:3: included page 'folder.md' is a folder, not a Markdown file; "
        "include a Markdown file"
    ) in err


def test_includes_are_found_in_the_sites_content_includes_as_hugo_finds_them(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Docker's site keeps includes in ``content/includes/``; ``_includes/`` beside the
    page comes first; a missing include names every folder searched."""
    (site / "content" / "includes" / "compose").mkdir(parents=True)
    (site / "content" / "includes" / "shared.md").write_text("Shared from the site.\n")
    (site / "content" / "includes" / "compose" / "nested.md").write_text("Nested one.\n")
    (site / "content" / "guide" / "_includes").mkdir()
    (site / "content" / "guide" / "_includes" / "local.md").write_text("Local one.\n")
    source = page(
        site,
        '{{< include "shared.md" >}}\n\n{{< include "compose/nested.md" >}}\n\n'
        '{{< include "local.md" >}}\n\n{{< include "gone.md" >}}\n',
        "guide/deeper/page.md",
    )
    (site / "content" / "guide" / "deeper" / "_includes").mkdir()
    code, err = build(capsys, source)
    assert code == 0
    text = built_text()
    assert "Shared from the site." in text
    assert "Nested one." in text
    assert "Local one." not in text  # _includes/ is looked up beside the page only
    assert (
        f"{source}:7: warning: included page 'local.md' is not in "
        "content/guide/deeper/_includes/ or content/includes/; a note stands in for it"
    ) in err
    assert f"{source}:9: warning: included page 'gone.md' is not in" in err


def test_includes_larger_than_the_bound_together_are_refused(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = site / "content" / "includes"
    folder.mkdir()
    (folder / "big.md").write_text(("word " * 20 + "\n") * (MAX_INCLUDED // 101 // 2 + 10))
    source = page(site, '{{< include "big.md" >}}\n\n{{< include "big.md" >}}\n')
    code, err = build(capsys, source)
    assert code == 1
    assert (
        f"{source}:5: included page 'big.md' would make this page's includes larger than "
        "512 KiB together; include less, or split the page"
    ) in err


def test_an_include_that_includes_itself_is_left_out_the_second_time(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = site / "content" / "includes"
    folder.mkdir()
    (folder / "a.md").write_text('A text.\n\n{{< include "./b.md" >}}\n')
    (folder / "b.md").write_text('B text.\n\n{{< include "a.md" >}}\n')
    source = page(site, '{{< include "a.md" >}}\n')
    code, err = build(capsys, source)
    assert code == 0
    assert (
        f"{source}:3: warning: in a.md line 3: in ./b.md line 3: included page 'a.md' "
        "includes itself; left out here"
    ) in err
    assert built_text().count("A text.") == 1


def test_a_nul_byte_in_an_include_is_refused_with_its_line(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = site / "content" / "includes"
    folder.mkdir()
    (folder / "nul.md").write_text("Fine.\n\n```\nrm -rf /\0tmp\n```\n")
    source = page(site, '{{< include "nul.md" >}}\n')
    code, err = build(capsys, source)
    assert code == 1
    assert (
        f"{source}:3: in nul.md line 4: a NUL byte is not text a lesson may hold; remove it"
    ) in err


# the page itself ----------------------------------------------------------------------
def test_a_nul_byte_or_control_character_in_a_page_is_refused_with_its_line(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = page(site, "```sh\necho a\0b\n```\n\nA bell\x07 here.\n")
    code, err = build(capsys, source)
    assert code == 1
    assert err.splitlines()[:2] == [
        f"{source}:4: a NUL byte is not text a lesson may hold; remove it (write \\0 to show one)",
        f"{source}:7: the control character U+0007 is not text a lesson may hold; remove it "
        "(write \\0 to show one)",
    ]


def test_a_byte_order_mark_does_not_hide_the_front_matter(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = site / "content" / "guide" / "page.md"
    path.write_bytes("\ufeff---\ntitle: From the front matter\n---\n\nText.\n".encode())
    code, _ = build(capsys, "content/guide/page.md")
    assert code == 0
    text = built_text()
    assert text.startswith("# From the front matter")
    assert "title:" not in text


def test_a_page_that_is_a_loop_of_links_is_a_problem(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (site / "content" / "loop.md").symlink_to("loop.md")
    good = page(site, "Fine.\n")
    code, err = build(capsys, good, "content/loop.md")
    assert code == 1
    assert err.splitlines() == [
        "content/loop.md: is a symbolic link that leads back to itself; point it at a lesson file",
        "1 problem(s); nothing was written.",
    ]


def test_a_page_that_links_out_of_its_site_is_refused(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (site / "content" / "stolen.md").symlink_to(site.parent / "outside" / "secret.md")
    code = main(["build", "--check", "--out", "out"])  # every content/*.md
    err = capsys.readouterr().err
    assert code == 1
    assert "Traceback" not in err
    assert (
        f"content/stolen.md: is a link to {site.parent / 'outside' / 'secret.md'}, outside "
        f"{site / 'content'}; copy the page there instead of linking to it"
    ) in err
    assert SECRET not in err


def test_a_page_that_links_to_a_file_of_the_repository_is_refused(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (site / ".git").mkdir()
    (site / ".git" / "config").write_text(SECRET + "\n")
    (site / "content" / "config.md").symlink_to("../.git/config")
    code, err = build(capsys, "content/config.md")
    assert code == 1
    assert f"content/config.md: is a link to {site / '.git' / 'config'}, outside" in err
    assert not Path("out").exists()


def test_a_page_larger_than_the_bound_is_refused(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = page(site, "x" * (512 << 10))
    code, err = build(capsys, source)
    assert code == 1
    assert f"{source}: is larger than 512 KiB; a lesson's text is smaller" in err


@pytest.mark.parametrize("check", [False, True], ids=["build", "check"])
def test_out_naming_a_file_is_a_clear_error(
    site: Path, capsys: pytest.CaptureFixture[str], check: bool
) -> None:
    source = page(site, "Fine.\n")
    Path("out").write_text("not a folder\n")
    code, err = build(capsys, source, *(["--check"] if check else []))
    assert code == 1
    assert err.splitlines() == [
        "error: --out out is a file, not a folder; nothing was written.",
        "hint: Name a folder for the notebooks (it is made when missing), e.g. --out lessons.",
    ]
    assert Path("out").read_text() == "not a folder\n"


def test_out_inside_a_file_is_a_clear_error(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = page(site, "Fine.\n")
    Path("file").write_text("")
    code = main(["build", source, "--out", "file/lessons"])
    err = capsys.readouterr().err
    assert code == 1
    assert "Traceback" not in err
    assert "error: Cannot write the notebooks to file/lessons: Not a directory" in err
    assert "hint: Name a folder you can write to with --out" in err


# YAML -----------------------------------------------------------------------------------
def test_anchors_and_aliases_are_refused_in_front_matter_and_steps(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = site / "content" / "guide" / "page.md"
    path.write_text(
        "---\ntitle: Page\nkeywords: &k [a, b]\ndescription: *k\n---\n\n# Page\n\n"
        "```{step} pull\ntitle: Pull\naction: pull\nimages: &i [nginx]\n"
        "checks:\n  - {check: image_present, image: nginx, hint: Pull it.}\n```\n"
    )
    code, err = build(capsys, "content/guide/page.md")
    assert code == 1
    refused = (
        "YAML anchors and aliases (&name, *name) are not accepted in a lesson; "
        "write each value out in full"
    )
    assert err.splitlines() == [
        f"content/guide/page.md:3: in the front matter: {refused}",
        f"content/guide/page.md:12: in step 'pull': {refused}",
        "2 problem(s); nothing was written.",
    ]


def test_yaml_nested_too_deeply_is_refused_without_a_recursion_error(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = site / "content" / "guide" / "page.md"
    path.write_text("---\ntitle: " + "[" * 5000 + "]" * 5000 + "\n---\n\n# Page\n")
    code, err = build(capsys, "content/guide/page.md")
    assert code == 1
    assert (
        "content/guide/page.md:2: in the front matter: the YAML nests more than 32 levels "
        "deep; flatten it (a lesson needs a few levels)"
    ) in err
