import pytest

from dockdojo.runner import PortLink, port_url


def test_port_link_is_localhost_outside_jupyterhub(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JUPYTERHUB_SERVICE_PREFIX", raising=False)
    assert port_url(32768) == "http://localhost:32768/"
    assert PortLink("80/tcp", "127.0.0.1", 32768).url == "http://localhost:32768/"


def test_port_link_goes_through_the_server_proxy_under_jupyterhub(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/alice/")
    assert port_url(32768) == "/user/alice/proxy/32768/"
    assert PortLink("80/tcp", "127.0.0.1", 8080).url == "/user/alice/proxy/8080/"


def test_a_port_on_an_address_of_its_own_links_to_that_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("JUPYTERHUB_SERVICE_PREFIX", raising=False)
    assert PortLink("80/tcp", "127.77.3.233", 32768).url == "http://127.77.3.233:32768/"
    assert PortLink("80/tcp", "0.0.0.0", 32768).reach == "127.0.0.1"
    assert PortLink("80/tcp", "127.77.3.233", 32768).reach == "127.77.3.233"
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/ada/")
    link = PortLink("80/tcp", "127.77.3.233", 32768)
    assert link.url == "/user/ada/proxy/127.77.3.233:32768/"


def test_published_ports_bind_where_the_room_says(monkeypatch: pytest.MonkeyPatch) -> None:
    """The room's setting is read where the environment is read (the context), and handed
    to the engine layer, which reads no environment itself."""
    from dockdojo.runner import Engine
    from dockdojo.runner.context import environment_engine

    monkeypatch.delenv("DOCKDOJO_HOST_IP", raising=False)
    assert environment_engine("unix:///nowhere.sock").host_ip == "127.0.0.1"
    monkeypatch.setenv("DOCKDOJO_HOST_IP", "127.77.3.233")
    assert environment_engine("unix:///nowhere.sock").host_ip == "127.77.3.233"
    assert Engine("unix:///nowhere.sock").host_ip == "127.0.0.1"
    assert Engine("unix:///nowhere.sock", host_ip="127.0.0.2").host_ip == "127.0.0.2"


def test_each_uid_has_a_loopback_address_of_its_own() -> None:
    from dockdojo.runner.errors import HostError
    from dockdojo.runner.privileged.firewall import address

    assert address(1001) == "127.77.3.233"
    assert len({address(uid) for uid in range(1, 65536)}) == 65535
    for uid in (0, 65536):
        with pytest.raises(HostError):
            address(uid)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", True),  # a web server
        (b"-ERR unknown command 'HEAD'\r\n", False),  # redis
        (b"", None),  # Docker's port proxy before the server listens: closed, no byte
    ],
)
def test_a_port_is_a_web_page_only_when_it_answers_http(answer: bytes, expected: object) -> None:
    """A listener on loopback stands in for each kind of server (no engine here)."""
    import socket
    import threading

    from dockdojo.widgets.containers import answers_http

    with socket.create_server(("127.0.0.1", 0)) as server:
        heard: list[bytes] = []

        def serve() -> None:
            connection, _ = server.accept()
            with connection:
                heard.append(connection.recv(1024))
                connection.sendall(answer)

        thread = threading.Thread(target=serve)
        thread.start()
        assert answers_http(server.getsockname()[1]) is expected
        thread.join(5)
    assert heard == [b"HEAD / HTTP/1.0\r\n\r\n"]  # no Host line: redis hangs up on one


def test_a_port_nothing_listens_on_is_not_yet_known() -> None:
    import socket

    from dockdojo.widgets.containers import answers_http

    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
    assert answers_http(port) is None
