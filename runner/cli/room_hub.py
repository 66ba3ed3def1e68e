"""``dockdojo room hub-config``: a JupyterHub configuration for the room."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_commands(groups: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    hub = groups.add_parser(
        "hub-config",
        help="write a JupyterHub configuration for the room (then: jupyterhub -f FILE)",
        description="Write a jupyterhub_config.py that starts each learner's server as "
        "their own Unix user with their own rootless engine, started before the server "
        "and stopped after it. Prepares the learners' Python (JupyterLab, "
        "jupyterhub-singleuser, dockdojo) in /var/lib/dockdojo/learner first. Run the "
        "hub as root with: jupyterhub -f FILE",
    )
    hub.add_argument("--out", type=Path, required=True, help="where to write the file")
    hub.add_argument(
        "--port", type=int, default=None, help="the hub's port on 127.0.0.1 (default: [hub] port)"
    )
    hub.add_argument(
        "--learner",
        action="append",
        default=[],
        metavar="NAME",
        help="a learner (repeatable; added to [hub] learners)",
    )
    hub.add_argument(
        "--admin",
        action="append",
        default=[],
        metavar="NAME",
        help="an instructor (repeatable; added to [hub] instructors)",
    )
    hub.add_argument(
        "--password",
        default=None,
        help="a trial: learners log in with this password (instructors with their own)",
    )
    hub.add_argument(
        "--instructor-password",
        default=None,
        help="with --password: the instructors' password (never the learners')",
    )
    hub.set_defaults(func=_hub_config)
    helm = groups.add_parser(
        "helm-values",
        help="print Helm values for Zero to JupyterHub on Kubernetes (documented, untested)",
        description="Print values for the jupyterhub Helm chart: each learner's pod runs "
        "an engine of its own in a sidecar (rootless Docker-in-Docker, or Sysbox), never "
        "the node's socket; with --mirror, also the room mirror's Deployment and Service.",
    )
    helm.add_argument("--image", required=True, help="the learners' server image")
    helm.add_argument("--runtime", choices=("dind-rootless", "sysbox"), default="dind-rootless")
    helm.add_argument("--learner", action="append", default=[], metavar="NAME")
    helm.add_argument("--admin", action="append", default=[], metavar="NAME")
    helm.add_argument("--mirror", action="store_true", help="also print the mirror's manifests")
    helm.set_defaults(func=_helm_values)


LEARNER_PASSWORD_MIN = 8
INSTRUCTOR_PASSWORD_MIN = 32
"""The shortest passwords JupyterHub's shared-password authenticator takes."""


def _check_passwords(args: argparse.Namespace, instructors: tuple[str, ...]) -> None:
    """A trial's instructors need a password of their own: with the learners', any learner
    would log in as an instructor (an admin of the hub)."""
    from ..errors import DockdojoError

    if args.password is None:
        if args.instructor_password is not None:
            raise DockdojoError(
                "--instructor-password is for a trial hub, which --password makes.",
                "Add --password for the learners, or leave both out and set the hub's "
                "authenticator.",
            )
        return
    if len(args.password) < LEARNER_PASSWORD_MIN:
        raise DockdojoError(
            f"--password has {len(args.password)} characters; JupyterHub wants at least "
            f"{LEARNER_PASSWORD_MIN}.",
            f"Give the learners a password of {LEARNER_PASSWORD_MIN} characters or more.",
        )
    if instructors and not args.instructor_password:
        raise DockdojoError(
            f"The instructors ({', '.join(instructors)}) have no password of their own: with "
            "the learners' password any learner could log in as an instructor.",
            "Add --instructor-password with another password.",
        )
    if args.instructor_password == args.password:
        raise DockdojoError(
            "--instructor-password is the learners' password: any learner could log in as "
            "an instructor.",
            "Give the instructors another password.",
        )
    if args.instructor_password and len(args.instructor_password) < INSTRUCTOR_PASSWORD_MIN:
        raise DockdojoError(
            f"--instructor-password has {len(args.instructor_password)} characters; an "
            f"instructor (a hub admin) needs at least {INSTRUCTOR_PASSWORD_MIN}.",
            "Give the instructors a longer password (for example: openssl rand -hex 20).",
        )


def _hub_config(args: argparse.Namespace) -> int:
    from ..hub.hub import hub_config, learners_python, prepare_state
    from ..room.config import config_file, load_config
    from ..room.host import need_root

    need_root("Writing a room's JupyterHub configuration")
    room = load_config(args.config)
    _check_passwords(args, (*room.hub.instructors, *args.admin))
    learners_python()
    prepare_state(room)
    given = config_file(args.config)  # the hub's hooks read the same file
    text = hub_config(
        given.resolve() if given else None,
        room,
        port=args.port,
        learners=tuple(args.learner),
        admins=tuple(args.admin),
        password=args.password,
        instructor_password=args.instructor_password,
    )
    args.out.write_text(text)
    args.out.chmod(0o600)
    print(f"wrote {args.out}; start the hub with: jupyterhub -f {args.out}", file=sys.stderr)
    return 0


def _helm_values(args: argparse.Namespace) -> int:
    from ..hub.helm import helm_values, mirror_manifests, to_yaml
    from ..room.config import load_config

    values = helm_values(
        load_config(args.config),
        image=args.image,
        runtime=args.runtime,
        admins=tuple(args.admin),
        learners=tuple(args.learner),
    )
    print(to_yaml([values]), end="")
    if args.mirror:
        print("---\n" + to_yaml(mirror_manifests()), end="")
    return 0


__all__ = ["add_commands"]
