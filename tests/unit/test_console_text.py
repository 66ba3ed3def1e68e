import pytest

from dockdojo.runner import plain_text
from dockdojo.runner.cli.grade import _Progress, table
from dockdojo.runner.grading.reports import SubmissionResult
from dockdojo.runner.kinds import LessonReport
from dockdojo.runner.text import escaped


def test_redis_cli_hints_and_line_redraws_collapse_to_what_a_terminal_shows() -> None:
    raw = (
        "127.0.0.1:6379> \r\x1b[0K127.0.0.1:6379> GET\x1b[0;90;49m key\x1b[0m\r\x1b[19C"
        '\r\x1b[0K127.0.0.1:6379> GET test\r\x1b[24C\r\n"1"\r\n127.0.0.1:6379> '
    )
    assert plain_text(raw) == '127.0.0.1:6379> GET test\n"1"\n127.0.0.1:6379> '


def test_mongosh_title_bracketed_paste_and_double_returns_are_removed() -> None:
    raw = (
        "\x1b]0;mongosh mongodb://127.0.0.1:27017/\x07Using Mongosh:\t\t2.12.0\r\n"
        "\x1b[1G\x1b[0J \x1b[1G\x1b[?2004h\r\n\x1b[1G\x1b[0Jtest> \x1b[7Gdb.test.findOne()\r\r\n"
        "{ a: 1 }\r\n"
    )
    assert plain_text(raw) == "Using Mongosh:\t\t2.12.0\n \ntest> db.test.findOne()\n{ a: 1 }\n"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("ada", "ada"),
        ("Zoë 🐳 a\\b", "Zoë 🐳 a\\b"),
        ("\x1b]0;pwned\x07x.ipynb", "\\x1b]0;pwned\\x07x.ipynb"),
        ("\x1b[2J\x1b[Hclean", "\\x1b[2J\\x1b[Hclean"),
        ("a\rb\nc\td\x7f", "a\\rb\\nc\\td\\x7f"),
        ("\x9b31m", "\\x9b31m"),
        ("\u202eevil\u2028", "\\u202eevil\\u2028"),
        ("bad\udcffbyte", "bad\\udcffbyte"),
    ],
)
def test_escaped_text_shows_every_unprintable_character_as_its_escape(raw: str, shown: str) -> None:
    assert escaped(raw) == shown
    assert escaped(raw).isprintable()


def _result(submission: str, learner: str) -> SubmissionResult:
    return SubmissionResult(submission, learner, "l", LessonReport("l", "t", ()))


HOSTILE_PATH = "submissions/\x1b]0;owned\x07\x1b[2K\r\x1b[1Aada\u202e.ipynb"


def test_the_grade_table_escapes_what_it_prints() -> None:
    shown = table([_result(HOSTILE_PATH, "ada\x1b[31m")])
    assert all(line.isprintable() for line in shown.split("\n"))
    assert len(shown.split("\n")) == 2
    assert shown.split("\n")[1].endswith(
        "submissions/\\x1b]0;owned\\x07\\x1b[2K\\r\\x1b[1Aada\\u202e.ipynb"
    )
    assert shown.split("\n")[1].startswith("ada\\x1b[31m ")


def test_progress_lines_escape_the_learner(capsys: pytest.CaptureFixture[str]) -> None:
    _Progress(1).show(_result(HOSTILE_PATH, "\x1b]0;owned\x07ada"))
    err = capsys.readouterr().err
    assert "\x1b" not in err
    assert "\\x1b]0;owned\\x07ada: 0/0" in err
