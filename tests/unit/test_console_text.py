from dockdojo.runner import plain_text


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
