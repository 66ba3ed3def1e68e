import pytest

from dockdojo.runner import InvalidReference, normalize, parse_ref, same_image


@pytest.mark.parametrize(
    ("text", "familiar", "canonical"),
    [
        ("nginx", "nginx:latest", "docker.io/library/nginx:latest"),
        ("nginx:latest", "nginx:latest", "docker.io/library/nginx:latest"),
        ("docker.io/library/nginx:latest", "nginx:latest", "docker.io/library/nginx:latest"),
        ("library/nginx", "nginx:latest", "docker.io/library/nginx:latest"),
        ("index.docker.io/library/redis:7", "redis:7", "docker.io/library/redis:7"),
        ("me/app:v1.2", "me/app:v1.2", "docker.io/me/app:v1.2"),
        (
            "127.0.0.1:5000/library/mongo",
            "127.0.0.1:5000/library/mongo:latest",
            "127.0.0.1:5000/library/mongo:latest",
        ),
        ("localhost/app", "localhost/app:latest", "localhost/app:latest"),
        (
            "ghcr.io/org/team/tool:1_0-rc.1",
            "ghcr.io/org/team/tool:1_0-rc.1",
            "ghcr.io/org/team/tool:1_0-rc.1",
        ),
    ],
)
def test_references_normalize_like_docker(text: str, familiar: str, canonical: str) -> None:
    ref = parse_ref(text)
    assert ref.familiar == familiar
    assert ref.canonical == canonical
    assert normalize(text) == familiar


def test_digest_reference_keeps_digest_and_has_no_default_tag() -> None:
    digest = "sha256:" + "a" * 64
    ref = parse_ref(f"nginx@{digest}")
    assert ref.tag is None
    assert ref.digest == digest
    assert ref.familiar == f"nginx@{digest}"


def test_same_image_ignores_spelling() -> None:
    assert same_image("nginx", "docker.io/library/nginx:latest")
    assert not same_image("nginx", "nginx:1.27")
    assert not same_image("nginx", "me/nginx")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The image name is empty."),
        ("   ", "The image name is empty."),
        ("nginx;rm -rf /", "contains spaces"),
        ("nginx;rm", "may use only lowercase letters"),
        ("UPPER:case", "repository names must be lowercase"),
        ("nginx:-bad", "invalid tag '-bad'"),
        ("nginx@sha256:xyz", "invalid digest"),
        ("a/b//c", "may use only lowercase letters"),
        ("nginx:" + "x" * 200, "invalid tag"),
    ],
)
def test_invalid_references_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(InvalidReference) as err:
        parse_ref(text)
    assert message in err.value.what
    assert err.value.hint


def test_uppercase_hint_suggests_the_lowercase_name() -> None:
    with pytest.raises(InvalidReference) as err:
        parse_ref("UPPER:case")
    assert "'upper'" in err.value.hint
