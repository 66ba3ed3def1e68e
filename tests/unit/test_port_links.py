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
