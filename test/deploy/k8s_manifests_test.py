#!/usr/bin/python3
"""Checks deploy/k8s without a cluster: every manifest parses, has its kind's required fields, and
agrees with the Remora config its ConfigMap embeds (probe ports and paths, scrape annotations,
listener port, termination grace against the drain), and that config passes `remora --validate`;
the admin control listener stays off the pod network, the NetworkPolicy admits only the listener
and the observe port, and the pod meets the restricted Pod Security Standard.

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


def check_admin_exposure(deployment, configmap, policy):
    """Only the listeners and the observe port are reachable; raises AssertionError."""
    config = yaml.safe_load(configmap["data"]["remora.yaml"])
    admin = config.get("admin", {})
    observe_port = port_of(admin.get("address", "127.0.0.1:9901"))
    control = admin.get("control", {})
    if "unix" not in control:
        address = control.get("address", "127.0.0.1:9902")
        host = address.rsplit(":", 1)[0].strip("[]")
        assert host.startswith("127.") or host == "::1", \
            f"admin.control.address {address} is reachable from the pod network"
        spec = deployment["spec"]["template"]["spec"]
        exposed = {p["containerPort"] for c in spec["containers"] for p in c.get("ports", [])}
        assert port_of(address) not in exposed, "the control port is a containerPort"
    listener_ports = {port_of(listener["address"]) for listener in config["listeners"]}
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    for k, v in policy["spec"]["podSelector"]["matchLabels"].items():
        assert labels.get(k) == v, "the NetworkPolicy does not select the pods"
    assert "Ingress" in policy["spec"]["policyTypes"], "the NetworkPolicy does not limit ingress"
    seen = set()
    for rule in policy["spec"].get("ingress", []):
        ports = {p["port"] for p in rule.get("ports", [])}
        assert ports, "an ingress rule without ports admits every port"
        assert ports <= listener_ports | {observe_port}, \
            f"the NetworkPolicy admits ports {sorted(ports - listener_ports - {observe_port})}"
        if observe_port in ports:
            assert rule.get("from"), f"port {observe_port} is open to every source"
        seen |= ports
    assert observe_port in seen, f"the NetworkPolicy never admits the observe port {observe_port}"


def check_restricted(pod_spec, init_exempt=()):
    """The restricted Pod Security Standard's container rules; raises AssertionError."""
    pod_sc = pod_spec.get("securityContext", {})
    assert pod_sc.get("runAsNonRoot") is True, "pod securityContext.runAsNonRoot must be true"
    assert pod_sc.get("seccompProfile", {}).get("type") == "RuntimeDefault", \
        "pod securityContext.seccompProfile.type must be RuntimeDefault"
    for c in pod_spec.get("containers", []) + pod_spec.get("initContainers", []):
        sc = c.get("securityContext", {})
        assert sc.get("allowPrivilegeEscalation") is False, \
            f"{c['name']}: allowPrivilegeEscalation must be false"
        assert "ALL" in sc.get("capabilities", {}).get("drop", []), \
            f"{c['name']}: capabilities must drop ALL"
        if c["name"] not in init_exempt:
            assert not sc.get("capabilities", {}).get("add"), f"{c['name']}: adds capabilities"


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
                    self.assertIn(doc.get("kind"), {"Deployment", "ConfigMap", "Service",
                                                    "NetworkPolicy", "Kustomization"})
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

    def test_only_the_observe_port_is_exposed(self):
        dep, cm = one(self.base, "Deployment"), one(self.base, "ConfigMap")
        policy = one(self.base, "NetworkPolicy")
        check_admin_exposure(dep, cm, policy)
        self.assertIn("networkpolicy.yaml", one(self.base, "Kustomization")["resources"])

        def broken(mutate):
            d, c, p = copy.deepcopy(dep), copy.deepcopy(cm), copy.deepcopy(policy)
            mutate(d, c, p)
            with self.assertRaises((AssertionError, KeyError)):
                check_admin_exposure(d, c, p)

        def open_control(d, c, p):
            config = yaml.safe_load(c["data"]["remora.yaml"])
            config["admin"]["control"] = {"address": "0.0.0.0:9902", "allow_insecure": True}
            c["data"]["remora.yaml"] = yaml.safe_dump(config)
        broken(open_control)
        broken(lambda d, c, p: p["spec"]["ingress"][1].pop("from"))
        broken(lambda d, c, p: p["spec"]["ingress"][0]["ports"].append({"port": 9902}))
        broken(lambda d, c, p: p["spec"]["ingress"].append({"from": [{"podSelector": {}}]}))

    def test_the_pod_meets_the_restricted_standard(self):
        spec = one(self.base, "Deployment")["spec"]["template"]["spec"]
        check_restricted(spec)
        for mutate in (lambda s: s["securityContext"].pop("seccompProfile"),
                       lambda s: s["containers"][0].pop("securityContext"),
                       lambda s: container(s, "remora")["securityContext"]["capabilities"]
                       .update(add=["NET_ADMIN"])):
            s = copy.deepcopy(spec)
            mutate(s)
            with self.assertRaises(AssertionError):
                check_restricted(s)

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

    def test_mtls_variant_mounts_the_secret_and_its_config_validates(self):
        config_map = self.files[os.path.join("mtls", "configmap-tls.yaml")][0]
        patch = self.files[os.path.join("mtls", "deployment-tls.yaml")][0]
        spec = patch["spec"]["template"]["spec"]
        mounts = {m["name"]: m["mountPath"] for m in spec["containers"][0]["volumeMounts"]}
        secret = next(v for v in spec["volumes"] if "secret" in v)
        self.assertEqual(mounts[secret["name"]], "/etc/remora/tls")
        self.assertEqual(spec["securityContext"]["fsGroup"],
                         one(self.base, "Deployment")["spec"]["template"]["spec"]
                         ["securityContext"]["runAsGroup"])
        text = config_map["data"]["remora.yaml"]
        self.assertIn("client_certificate: required", text)
        # The certificate files as cert-manager writes them, made here by dev-certs.sh.
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([os.path.join(REPO, "scripts", "dev-certs.sh"), tmp], check=True,
                           capture_output=True, timeout=60)
            for src, dst in (("server.crt", "tls.crt"), ("server.key", "tls.key"),
                             ("ca.crt", "ca.crt")):
                os.rename(os.path.join(tmp, src), os.path.join(tmp, dst))
            result = validate_with_remora(text.replace("/etc/remora/tls", tmp))
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
            broken = validate_with_remora(text.replace("/etc/remora/tls/tls.key",
                                                       os.path.join(tmp, "missing.key")))
            self.assertEqual(broken.returncode, 1)
            self.assertIn("key_file", broken.stdout + broken.stderr)

    def test_interception_patch_runs_the_init_script(self):
        patch = self.files[os.path.join("interception", "init-container.yaml")][0]
        init = patch["spec"]["template"]["spec"]["initContainers"][0]
        self.assertTrue(init["command"][0].endswith("iptables-init.sh"))
        self.assertIn("NET_ADMIN", init["securityContext"]["capabilities"]["add"])
        # Root with NET_ADMIN/NET_RAW is the documented exception; the rest stays restricted.
        pod = copy.deepcopy(one(self.base, "Deployment")["spec"]["template"]["spec"])
        pod["initContainers"] = [init]
        check_restricted(pod, init_exempt=(init["name"],))
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
