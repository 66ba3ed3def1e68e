"""Zero to JupyterHub on Kubernetes: the room as Helm values for the ``jupyterhub`` chart.

``dockdojo room helm-values`` turns the room's settings into values for KubeSpawner:
each learner's pod gets an engine of its own in a sidecar container, never the node's
socket, and the room's mirror is a Deployment with a Service (printed with
``--mirror``). Two ways to run the sidecar:

- ``dind-rootless`` (default): Docker's rootless Docker-in-Docker image. Docker documents
  that it still needs a privileged container (for its user namespace and mounts), but
  its daemon runs as uid 1000, not root;
- ``sysbox``: the pod runs under the Sysbox runtime (``runtimeClassName: sysbox-runc``,
  installed on the nodes beforehand), where the ordinary Docker-in-Docker image needs
  no privileges at all.

The learner's server and the engine share the engine's socket folder (an ``emptyDir``);
``DOCKER_HOST`` points at it. This is documented and checked for shape only (tests read
the YAML for the keys the chart and KubeSpawner read); it is not run on a cluster here.
"""

from __future__ import annotations

from typing import Any

import yaml

from ..room.config import RoomConfig

RUNTIMES = ("dind-rootless", "sysbox")
SOCKET_DIR = "/run/dockdojo-engine"
"""Where the sidecar's socket folder is mounted, in both containers."""
MIRROR_SERVICE = "dockdojo-mirror"


def helm_values(
    room: RoomConfig,
    *,
    image: str,
    runtime: str = "dind-rootless",
    admins: tuple[str, ...] = (),
    learners: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Values for the ``jupyterhub`` chart (Zero to JupyterHub) for ``room``.

    ``image`` is the learners' server image (JupyterLab, jupyterhub-singleuser and
    dockdojo in it)."""
    if runtime not in RUNTIMES:
        raise ValueError(f"runtime must be one of {', '.join(RUNTIMES)}, not {runtime!r}")
    mirror = f"http://{MIRROR_SERVICE}:5000"
    limits = room.limits
    engine: dict[str, Any] = {
        "name": "engine",
        "args": [f"--registry-mirror={mirror}", f"--insecure-registry={MIRROR_SERVICE}:5000"],
        "env": [{"name": "DOCKER_TLS_CERTDIR", "value": ""}],
        "volumeMounts": [{"name": "engine-socket", "mountPath": SOCKET_DIR}],
        "resources": {"limits": {"memory": f"{limits.memory_mb}Mi"}},
    }
    if runtime == "dind-rootless":
        engine["image"] = "docker:dind-rootless"
        engine["securityContext"] = {"privileged": True, "runAsUser": 1000}
        engine["env"].append({"name": "XDG_RUNTIME_DIR", "value": SOCKET_DIR})
        engine["args"] = [f"--host=unix://{SOCKET_DIR}/docker.sock", *engine["args"]]
    else:
        engine["image"] = "docker:dind"
        engine["args"] = [f"--host=unix://{SOCKET_DIR}/docker.sock", *engine["args"]]
    singleuser: dict[str, Any] = {
        "image": _image(image),
        "cmd": "jupyterhub-singleuser",
        "defaultUrl": "/lab/tree/dockdojo-lessons",
        "extraEnv": {"DOCKER_HOST": f"unix://{SOCKET_DIR}/docker.sock"},
        "extraContainers": [engine],
        "storage": {
            "extraVolumes": [{"name": "engine-socket", "emptyDir": {}}],
            "extraVolumeMounts": [{"name": "engine-socket", "mountPath": SOCKET_DIR}],
        },
        "memory": {"limit": f"{limits.memory_mb}M"},
    }
    if runtime == "sysbox":
        singleuser["extraPodConfig"] = {"runtimeClassName": "sysbox-runc"}
    hub_config: dict[str, Any] = {}
    if admins:
        hub_config.setdefault("Authenticator", {})["admin_users"] = sorted(admins)
    if learners:
        hub_config.setdefault("Authenticator", {})["allowed_users"] = sorted(learners)
    return {"hub": {"config": hub_config}, "singleuser": singleuser}


def mirror_manifests(image: str = "registry:2") -> list[dict[str, Any]]:
    """The room's mirror on the cluster: a read-only registry Deployment and its Service
    (fill its volume from a room archive: ``dockdojo room mirror pack``)."""
    labels = {"app": MIRROR_SERVICE}
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": MIRROR_SERVICE, "labels": labels},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [
                        {
                            "name": "registry",
                            "image": image,
                            "ports": [{"containerPort": 5000}],
                            "env": [
                                {
                                    "name": "REGISTRY_STORAGE_MAINTENANCE_READONLY_ENABLED",
                                    "value": "true",
                                }
                            ],
                            "volumeMounts": [{"name": "images", "mountPath": "/var/lib/registry"}],
                        }
                    ],
                    "volumes": [
                        {"name": "images", "persistentVolumeClaim": {"claimName": MIRROR_SERVICE}}
                    ],
                },
            },
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": MIRROR_SERVICE},
        "spec": {"selector": labels, "ports": [{"port": 5000, "targetPort": 5000}]},
    }
    return [deployment, service]


def _image(image: str) -> dict[str, str]:
    name, _, tag = image.rpartition(":")
    if not name or "/" in tag:
        return {"name": image, "tag": "latest"}
    return {"name": name, "tag": tag}


def to_yaml(documents: list[dict[str, Any]]) -> str:
    text: str = yaml.safe_dump_all(documents, sort_keys=False)
    return text


__all__ = ["RUNTIMES", "helm_values", "mirror_manifests", "to_yaml"]
