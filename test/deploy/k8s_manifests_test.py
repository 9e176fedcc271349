#!/usr/bin/python3
"""Checks deploy/k8s without a cluster: every manifest parses, has its kind's required fields, and
agrees with the Remora config its ConfigMap embeds (probe ports and paths, scrape annotations,
listener port, termination grace against the drain), and that config passes `remora --validate`.

    /usr/bin/python3 test/deploy/k8s_manifests_test.py REMORA_BINARY FILTER_DIR

Runs under ctest as `deploy.k8s_manifests` (label `k8s`). Needs python3-yaml (apt).
"""
import copy
import os
import re
import subprocess
import sys
import tempfile
import unittest

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
K8S = os.path.join(REPO, "deploy", "k8s")
REMORA = None
FILTER_DIR = None

DURATION = re.compile(r"^(\d+)(ms|s|m|h)?$")


def seconds(text):
    """A Remora duration ("5s", "250ms", "0") in seconds."""
    m = DURATION.match(str(text))
    if not m:
        raise ValueError(f"not a duration: {text!r}")
    scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}[m.group(2)]
    return int(m.group(1)) * scale


def load_all():
    """{relative path: [documents]} for every YAML file under deploy/k8s."""
    out = {}
    for root, _, files in os.walk(K8S):
        for name in sorted(files):
            if name.endswith((".yaml", ".yml")):
                path = os.path.join(root, name)
                with open(path) as f:
                    out[os.path.relpath(path, K8S)] = [d for d in yaml.safe_load_all(f) if d]
    return out


def one(docs, kind):
    found = [d for d in docs if d.get("kind") == kind]
    if len(found) != 1:
        raise AssertionError(f"expected one {kind}, found {len(found)}")
    return found[0]


def container(pod_spec, name):
    for c in pod_spec.get("containers", []):
        if c.get("name") == name:
            return c
    raise AssertionError(f"no container {name!r}")


def port_of(address):
    return int(address.rsplit(":", 1)[1])


def check_consistency(deployment, configmap):
    """The Deployment agrees with the Remora config in the ConfigMap; raises AssertionError."""
    config = yaml.safe_load(configmap["data"]["remora.yaml"])
    admin_port = port_of(config.get("admin", {}).get("address", "127.0.0.1:9901"))
    assert not config.get("admin", {}).get("address", "127.0.0.1").startswith("127."), \
        "admin.address is loopback: the kubelet's probes could not reach it"
    pod = deployment["spec"]["template"]
    spec = pod["spec"]
    remora = container(spec, "remora")

    ports = {p["name"]: p["containerPort"] for p in remora.get("ports", [])}
    named = lambda p: ports[p] if isinstance(p, str) else p  # noqa: E731
    ready = remora["readinessProbe"]["httpGet"]
    live = remora["livenessProbe"]["httpGet"]
    assert ready["path"] == "/ready", f"readinessProbe path {ready['path']}"
    assert live["path"] == "/healthz", f"livenessProbe path {live['path']}"
    assert named(ready["port"]) == admin_port, \
        f"readinessProbe port {ready['port']} != {admin_port}"
    assert named(live["port"]) == admin_port, f"livenessProbe port {live['port']} != {admin_port}"
    assert admin_port in ports.values(), f"admin port {admin_port} not a containerPort"
    for listener in config["listeners"]:
        assert port_of(listener["address"]) in ports.values(), \
            f"listener {listener['name']} port not a containerPort"

    ann = pod["metadata"].get("annotations", {})
    assert ann.get("prometheus.io/scrape") == "true", "prometheus.io/scrape must be \"true\""
    assert ann.get("prometheus.io/port") == str(admin_port), \
        f"prometheus.io/port {ann.get('prometheus.io/port')} != {admin_port}"
    assert ann.get("prometheus.io/path") == "/metrics", "prometheus.io/path must be /metrics"

    drain = config.get("drain", {})
    needed = seconds(drain.get("grace_period", "5s")) + seconds(drain.get("deadline", "30s"))
    grace = spec.get("terminationGracePeriodSeconds", 30)
    assert grace >= needed, f"terminationGracePeriodSeconds {grace} < drain grace+deadline {needed}"
    for c in spec["containers"]:
        cmd = c.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
        if cmd[-2:-1] == ["/bin/sleep"] or (cmd and cmd[0].endswith("sleep")):
            assert needed <= int(cmd[-1]) < grace, \
                f"{c['name']} preStop sleeps {cmd[-1]}s: must cover the drain ({needed}s) " \
                f"and end before the grace period ({grace}s)"

    # The config file is the ConfigMap's key inside a whole-directory mount (a subPath mount
    # would never see updates).
    args = remora.get("args", [])
    config_path = args[args.index("--config") + 1]
    volumes = {v["name"]: v for v in spec["volumes"]}
    mounts = [m for m in remora["volumeMounts"]
              if volumes[m["name"]].get("configMap", {}).get("name")
              == configmap["metadata"]["name"]]
    assert len(mounts) == 1, "the ConfigMap must be mounted once in the remora container"
    assert "subPath" not in mounts[0], "a subPath mount does not receive ConfigMap updates"
    assert os.path.dirname(config_path) == mounts[0]["mountPath"].rstrip("/"), \
        f"--config {config_path} is not in the ConfigMap mount {mounts[0]['mountPath']}"
    assert os.path.basename(config_path) in configmap["data"], \
        f"ConfigMap has no key {os.path.basename(config_path)}"

    for c in spec["containers"]:
        res = c.get("resources", {})
        assert "memory" in res.get("requests", {}), f"{c['name']}: no memory request"
        assert "memory" in res.get("limits", {}), f"{c['name']}: no memory limit"
    return config


def validate_with_remora(config_text):
    """Runs `remora --validate` on a config, with plugins.dir pointed at the built filters."""
    config = yaml.safe_load(config_text)
    with tempfile.TemporaryDirectory() as tmp:
        if "plugins" in config:
            config["plugins"]["dir"] = FILTER_DIR
            config["plugins"]["cache_dir"] = os.path.join(tmp, "cache")
        path = os.path.join(tmp, "remora.yaml")
        with open(path, "w") as f:
            yaml.safe_dump(config, f)
        return subprocess.run([REMORA, "--validate", "--config", path], capture_output=True,
                              text=True, timeout=30)


class ManifestTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.files = load_all()
        cls.base = [d for p, docs in cls.files.items() if os.sep not in p for d in docs]

    def test_every_manifest_has_its_required_fields(self):
        self.assertIn("deployment.yaml", self.files)
        for path, docs in self.files.items():
            for doc in docs:
                with self.subTest(path=path, kind=doc.get("kind")):
                    self.assertIn("apiVersion", doc)
                    self.assertIn(doc.get("kind"),
                                  {"Deployment", "ConfigMap", "Service", "Kustomization"})
                    if doc["kind"] == "Kustomization":
                        here = os.path.join(K8S, os.path.dirname(path))
                        for res in doc.get("resources", []):
                            self.assertTrue(os.path.exists(os.path.join(here, res)), res)
                        for patch in doc.get("patches", []):
                            self.assertIn(patch["path"], os.listdir(here))
                        continue
                    self.assertRegex(doc["metadata"]["name"], r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
        dep = one(self.base, "Deployment")
        self.assertEqual(dep["apiVersion"], "apps/v1")
        labels = dep["spec"]["template"]["metadata"]["labels"]
        for k, v in dep["spec"]["selector"]["matchLabels"].items():
            self.assertEqual(labels.get(k), v, "selector does not match the pod template")
        for c in dep["spec"]["template"]["spec"]["containers"]:
            self.assertTrue(c.get("name") and c.get("image"), c)
        svc = one(self.base, "Service")
        for k, v in svc["spec"]["selector"].items():
            self.assertEqual(labels.get(k), v, "Service selector does not match the pods")
        pod_spec = dep["spec"]["template"]["spec"]
        remora_ports = {p["name"] for p in container(pod_spec, "remora")["ports"]}
        for p in svc["spec"]["ports"]:
            if isinstance(p["targetPort"], str):
                self.assertIn(p["targetPort"], remora_ports)

    def test_deployment_matches_the_configmap_config(self):
        check_consistency(one(self.base, "Deployment"), one(self.base, "ConfigMap"))

    def test_the_checks_catch_mismatches(self):
        # The checks above must be able to fail: each mutation breaks one rule.
        dep, cm = one(self.base, "Deployment"), one(self.base, "ConfigMap")

        def broken(mutate):
            d, c = copy.deepcopy(dep), copy.deepcopy(cm)
            mutate(d["spec"]["template"], c)
            with self.assertRaises((AssertionError, KeyError, ValueError)):
                check_consistency(d, c)

        remora = lambda t: container(t["spec"], "remora")  # noqa: E731
        broken(lambda t, c: t["spec"].update(terminationGracePeriodSeconds=10))
        broken(lambda t, c: remora(t)["readinessProbe"]["httpGet"].update(port=9902))
        broken(lambda t, c: remora(t)["livenessProbe"]["httpGet"].update(path="/ready"))
        broken(lambda t, c: t["metadata"]["annotations"].update({"prometheus.io/port": "9090"}))
        broken(lambda t, c: c["data"].update({"remora.yaml": c["data"]["remora.yaml"].replace(
            "0.0.0.0:9901", "0.0.0.0:9911")}))
        broken(lambda t, c: remora(t)["volumeMounts"][0].update(subPath="remora.yaml"))

    def test_configmap_config_passes_remora_validate(self):
        result = validate_with_remora(one(self.base, "ConfigMap")["data"]["remora.yaml"])
        self.assertEqual(result.returncode, 0, result.stderr)
        broken = one(self.base, "ConfigMap")["data"]["remora.yaml"].replace(
            "max_active_requests: 1024", "max_active_requests: 0")
        self.assertEqual(validate_with_remora(broken).returncode, 1)

    def test_image_default_config_passes_remora_validate(self):
        with open(os.path.join(REPO, "deploy", "remora.yaml")) as f:
            result = validate_with_remora(f.read())
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_interception_patch_runs_the_init_script(self):
        patch = self.files[os.path.join("interception", "init-container.yaml")][0]
        init = patch["spec"]["template"]["spec"]["initContainers"][0]
        self.assertTrue(init["command"][0].endswith("iptables-init.sh"))
        self.assertIn("NET_ADMIN", init["securityContext"]["capabilities"]["add"])
        env = {e["name"]: e["value"] for e in init.get("env", [])}
        dep = one(self.base, "Deployment")
        # A strategic-merge patch applies to the object of the same kind and name.
        self.assertEqual((patch["kind"], patch["metadata"]["name"]),
                         (dep["kind"], dep["metadata"]["name"]))
        uid = dep["spec"]["template"]["spec"]["securityContext"]["runAsUser"]
        self.assertEqual(env["REMORA_PROXY_UID"], str(uid))
        config = yaml.safe_load(one(self.base, "ConfigMap")["data"]["remora.yaml"])
        listener_port = port_of(config["listeners"][0]["address"])
        self.assertEqual(int(env["REMORA_INBOUND_PORT"]), listener_port)
        with open(os.path.join(REPO, "deploy", "Containerfile")) as f:
            self.assertIn("deploy/iptables-init.sh", f.read())


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit("usage: k8s_manifests_test.py REMORA_BINARY FILTER_DIR")
    REMORA, FILTER_DIR = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[3:])
