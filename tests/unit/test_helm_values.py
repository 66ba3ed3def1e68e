"""``dockdojo room helm-values``: valid YAML with the keys the jupyterhub chart and
KubeSpawner read, and an engine per learner pod that never touches the node's socket.
(Documented, not run on a cluster here.)"""

from __future__ import annotations

import json

import pytest
import yaml

from dockdojo.runner.cli import main


@pytest.mark.parametrize("runtime", ["dind-rootless", "sysbox"])
def test_values_give_each_learner_pod_an_engine_of_its_own(
    runtime: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["room", "helm-values", "--image", "example.org/dojo-lab:1.2", "--runtime", runtime]
    assert main([*argv, "--admin", "teacher", "--learner", "ada", "--mirror"]) == 0
    values, deployment, service = list(yaml.safe_load_all(capsys.readouterr().out))
    single = values["singleuser"]
    assert single["image"] == {"name": "example.org/dojo-lab", "tag": "1.2"}
    assert set(single) >= {"cmd", "defaultUrl", "extraEnv", "extraContainers", "storage"}
    (engine,) = single["extraContainers"]
    socket = single["extraEnv"]["DOCKER_HOST"].removeprefix("unix://")
    volumes = {v["name"] for v in single["storage"]["extraVolumes"]}
    shared = {m["name"]: m["mountPath"] for m in single["storage"]["extraVolumeMounts"]}
    engine_mounts = {m["name"]: m["mountPath"] for m in engine["volumeMounts"]}
    assert shared == engine_mounts, "the server and its engine do not share the socket folder"
    assert set(shared) <= volumes
    assert socket.startswith(next(iter(shared.values())) + "/")
    assert f"--host=unix://{socket}" in engine["args"]
    assert any(a.startswith("--registry-mirror=http://dockdojo-mirror") for a in engine["args"])
    assert "docker.sock" not in json.dumps(single["storage"]["extraVolumes"])  # no hostPath
    assert "hostPath" not in json.dumps(values)
    if runtime == "sysbox":
        assert single["extraPodConfig"]["runtimeClassName"] == "sysbox-runc"
        assert "securityContext" not in engine
    else:
        assert engine["securityContext"]["runAsUser"] == 1000
    assert values["hub"]["config"]["Authenticator"]["admin_users"] == ["teacher"]
    assert deployment["kind"] == "Deployment"
    assert service["kind"] == "Service"
    env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "REGISTRY_STORAGE_MAINTENANCE_READONLY_ENABLED", "value": "true"} in env
