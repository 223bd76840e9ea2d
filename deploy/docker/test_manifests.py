"""Static checks of what cannot run here (no Docker engine, no cluster): docker-compose.yml,
deploy/docker/Dockerfile, deploy/k8s/ and deploy/prometheus/prometheus.yml.

`make test` runs them (`python3 -m unittest discover -s deploy/docker`). They check that the files
agree with the code and with each other: every variable given to a service is a setting that
service's code reads (names come from the `SettingKey`s in the Swift sources), every service gets
the settings it cannot start without, URLs point at the right service and port, passwords set by
the Postgres bootstrap are the ones the services use, the image builds every program the files
start, and the generated secrets (make-secrets.sh, the compose key writer — both run here) have
the shape the services parse. What they cannot tell: whether the images pull and start.
"""
import base64, glob, importlib.util, json, os, re, shutil, subprocess, tempfile, unittest

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PROGRAMS = {"gateway": 8080, "users": 8081, "orders": 8082, "payments": 8083, "notifications": 8084}
DATA_SERVICES = ["users", "orders", "payments", "notifications"]
# What a service cannot start without (the rest has defaults): the contract each manifest must meet.
REQUIRED = {
    "gateway": {"HTTP_PORT", "REDIS_URL", "JWT_JWKS_URL", "GATEWAY_USERS_URL", "GATEWAY_ORDERS_URL",
                "GATEWAY_PAYMENTS_URL", "GATEWAY_NOTIFICATIONS_URL"},
    "users": {"HTTP_PORT", "DATABASE_URL", "KAFKA_BROKERS", "REDIS_URL", "USERS_ADMIN_EMAIL", "USERS_ADMIN_PASSWORD"},
    "orders": {"HTTP_PORT", "DATABASE_URL", "KAFKA_BROKERS", "REDIS_URL", "JWT_JWKS_URL"},
    "payments": {"HTTP_PORT", "DATABASE_URL", "KAFKA_BROKERS", "REDIS_URL", "JWT_JWKS_URL"},
    "notifications": {"HTTP_PORT", "DATABASE_URL", "KAFKA_BROKERS", "REDIS_URL", "JWT_JWKS_URL"},
}
SIGNING_KEY_SETTINGS = {"JWT_SIGNING_KEYS", "JWT_SIGNING_KEYS_FILE"}


def read(path):
    """The text of `path` (relative to the repository, or absolute)."""
    with open(os.path.join(ROOT, path)) as f:
        return f.read()


def known_settings(*folders):
    """Environment variable patterns of the SettingKeys in the Swift sources under `folders`
    (`a.b` → `A_B`; an interpolation such as `gateway.\\(upstream.rawValue).url` matches any word)."""
    patterns = set()
    for folder in folders:
        for path in glob.glob(os.path.join(ROOT, folder, "**", "*.swift"), recursive=True):
            with open(path) as f:
                for key in re.findall(r'SettingKey\(\s*"([^"]+)"', f.read()):
                    parts = re.split(r"\\\([^)]*\)", key)
                    patterns.add("[A-Z]+".join(re.escape(p.replace(".", "_").upper()) for p in parts))
    return [re.compile(p + "$") for p in patterns]


SETTINGS = known_settings("Shared", "Services")
# A program reads the shared settings (some of them) and its own service's, never another's.
PROGRAM_SETTINGS = {program: known_settings("Shared", os.path.join("Services", program.capitalize())) for program in PROGRAMS}


def is_setting_of(program, name):
    return any(p.match(name) for p in PROGRAM_SETTINGS[program])


def is_setting(name):
    return any(p.match(name) for p in SETTINGS)


def compose_default(value):
    """`…${VAR:-default}…` with each reference replaced by its default."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", str(value))


def url_host_port(url):
    m = re.match(r"^[a-z]+://(?:[^@/]*@)?([A-Za-z0-9.-]+):(\d+)", url)
    return (m.group(1), int(m.group(2))) if m else None


class SettingNames(unittest.TestCase):
    def test_settings_are_found_in_the_sources(self):
        for name in ["DATABASE_URL", "KAFKA_BROKERS", "REDIS_URL", "HTTP_PORT", "GATEWAY_ORDERS_URL", "JWT_SIGNING_KEYS_FILE"]:
            self.assertTrue(is_setting(name), name)
        for name in ["DATABASE_URI", "KAFKA_BROKER", "GATEWAY_ORDERS", "PORT"]:
            self.assertFalse(is_setting(name), name)
        self.assertTrue(is_setting_of("orders", "SAGA_STEP_TIMEOUT_MS"))
        self.assertFalse(is_setting_of("gateway", "SAGA_STEP_TIMEOUT_MS"))
        self.assertTrue(is_setting_of("gateway", "GATEWAY_USERS_URL") and is_setting_of("gateway", "REDIS_URL"))


class PromQL(unittest.TestCase):
    def test_series_names(self):
        self.assertEqual(series_names("max by (upstream) (gateway_circuit_breaker_state)"), {"gateway_circuit_breaker_state"})
        self.assertEqual(series_names('histogram_quantile(0.99, sum by (le, instance) (rate(x_bucket{a=~"5.."}[1m])))'), {"x_bucket"})
        self.assertEqual(series_names("sum(rate(a[1m])) / sum(rate(b_total[1m]))"), {"a", "b_total"})


class Compose(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.compose = yaml.safe_load(read("docker-compose.yml"))
        cls.services = cls.compose["services"]

    def env(self, service):
        return {k: compose_default(v) for k, v in (self.services[service].get("environment") or {}).items()}

    def test_every_program_runs_with_its_port_and_known_settings(self):
        for program, port in PROGRAMS.items():
            with self.subTest(program=program):
                service = self.services[program]
                self.assertEqual(service["command"], [program])
                self.assertEqual(service["image"], "orderflow:dev")
                env = self.env(program)
                self.assertEqual(int(env["HTTP_PORT"]), port)
                unknown = sorted(name for name in env if not is_setting_of(program, name))
                self.assertEqual(unknown, [], f"{program} is given variables no SettingKey of its code reads")
                missing = sorted(REQUIRED[program] - set(env))
                self.assertEqual(missing, [], f"{program} lacks settings it cannot start without")
        self.assertTrue(SIGNING_KEY_SETTINGS & set(self.env("users")), "users has no signing key")

    def test_urls_point_at_services_and_their_ports(self):
        for name in self.services:
            for variable, value in self.env(name).items():
                target = url_host_port(value) if "://" in value else None
                if not target:
                    continue
                host, port = target
                with self.subTest(service=name, variable=variable):
                    self.assertIn(host, self.services, f"{value} names no compose service")
                    if host in PROGRAMS:
                        self.assertEqual(port, PROGRAMS[host])
        for name in self.services:
            brokers = self.env(name).get("KAFKA_BROKERS")
            if brokers:
                host, port = brokers.split(":")
                self.assertIn(host, self.services)
                advertised = self.env(host)["KAFKA_ADVERTISED_LISTENERS"]
                self.assertIn(f"//{host}:{port}", advertised)

    def test_database_urls_use_the_passwords_the_bootstrap_sets(self):
        postgres = self.services["postgres"]["environment"]
        bootstrap = read("deploy/postgres/bootstrap.sql")
        init = read("deploy/docker/postgres-init.sh")
        for service in DATA_SERVICES:
            with self.subTest(service=service):
                variable = f"{service.upper()}_DB_PASSWORD"
                self.assertIn(f":'{service}_password'", bootstrap)
                self.assertIn(f'-v {service}_password="${variable}"', init)
                raw = self.services[service]["environment"]["DATABASE_URL"]
                self.assertIn(f"{service}:{postgres[variable]}@postgres:5432/orderflow", raw,
                              "the service's password expression differs from the one given to the bootstrap")

    def test_dependencies_files_and_volumes_exist(self):
        for name, service in self.services.items():
            for dependency in service.get("depends_on") or {}:
                self.assertIn(dependency, self.services, f"{name} depends on an unknown service")
            for volume in service.get("volumes") or []:
                source = volume.split(":")[0]
                if source.startswith("./"):
                    self.assertTrue(os.path.exists(os.path.join(ROOT, source)), source)
                else:
                    self.assertIn(source, self.compose["volumes"])
        build = self.services["gateway"]["build"]
        self.assertTrue(os.path.isfile(os.path.join(ROOT, build["context"], build["dockerfile"])))

    def test_prometheus_scrapes_every_program(self):
        config = yaml.safe_load(read("deploy/prometheus/prometheus.yml"))
        targets = {t for job in config["scrape_configs"] for sc in job["static_configs"] for t in sc["targets"]}
        self.assertEqual(targets, {f"{p}:{port}" for p, port in PROGRAMS.items()})

    def test_alert_rules_are_mounted_and_query_series_the_services_export(self):
        exported = exported_metrics()
        config = yaml.safe_load(read("deploy/prometheus/prometheus.yml"))
        mounts = dict(v.split(":")[:2] for v in self.services["prometheus"]["volumes"])
        self.assertTrue(config.get("rule_files"))
        for name in config["rule_files"]:
            source = next((host for host, inside in mounts.items() if inside == f"/etc/prometheus/{name}"), None)
            self.assertIsNotNone(source, f"{name} is not mounted next to prometheus.yml")
            rules = [rule for group in yaml.safe_load(read(source.removeprefix("./")))["groups"] for rule in group["rules"]]
            self.assertTrue(rules)
            for rule in rules:
                with self.subTest(alert=rule.get("alert")):
                    self.assertTrue(rule.get("alert") and rule.get("annotations", {}).get("summary"))
                    names = series_names(rule["expr"])
                    self.assertTrue(names, rule["expr"])
                    for series in names:
                        self.assertIn(re.sub(r"_(bucket|sum|count)$", "", series), exported, f"{series} is not a series any service exports")

    def test_the_dashboard_queries_series_the_services_export(self):
        exported = exported_metrics()
        grafana = self.services["grafana"]
        mounts = dict(v.split(":")[:2] for v in grafana["volumes"])
        self.assertEqual(mounts["./deploy/grafana/dashboards"], "/var/lib/grafana/dashboards")
        provider = yaml.safe_load(read("deploy/grafana/provisioning/dashboards/orderflow.yml"))
        self.assertEqual(provider["providers"][0]["options"]["path"], "/var/lib/grafana/dashboards")
        source = yaml.safe_load(read("deploy/grafana/provisioning/datasources/prometheus.yml"))["datasources"][0]
        self.assertEqual(url_host_port(source["url"]), ("prometheus", 9090))
        dashboard = json.loads(read("deploy/grafana/dashboards/orderflow.json"))
        self.assertTrue(dashboard["panels"])
        for panel in dashboard["panels"]:
            for target in panel["targets"]:
                with self.subTest(panel=panel["title"]):
                    self.assertEqual(target["datasource"]["uid"], source["uid"])
                    names = series_names(target["expr"])
                    self.assertTrue(names, target["expr"])
                    for name in names:
                        base = re.sub(r"_(bucket|sum|count)$", "", name)
                        self.assertIn(base, exported, f"{name} is not a series any service exports")

    def test_the_key_writer_writes_a_key_users_can_parse(self):
        command = self.services["jwt-keys"]["command"][0].replace("$$", "$")
        with tempfile.TemporaryDirectory() as keys:
            script = command.replace("/keys/", keys + "/")
            if os.geteuid() != 0:  # the container runs as root; here only root may give the file away
                script = script.replace("chown 10001", "true")
            subprocess.run(["sh", "-c", script], check=True)
            first = read(os.path.join(keys, "jwt-signing-keys"))
            subprocess.run(["sh", "-c", script], check=True)
            self.assertEqual(read(os.path.join(keys, "jwt-signing-keys")), first, "an existing key is kept")
        assert_signing_keys(self, first.strip())


def exported_metrics():
    """Metric names the services register (swift-metrics labels in the Swift sources) and the RED
    series Hummingbird's MetricsMiddleware records."""
    names = {"hb_requests", "http_server_request_duration", "http_server_active_requests"}
    for path in glob.glob(os.path.join(ROOT, "Shared", "**", "*.swift"), recursive=True) + \
            glob.glob(os.path.join(ROOT, "Services", "**", "*.swift"), recursive=True):
        names |= set(re.findall(r'(?:Counter|Gauge|Timer|Recorder|Meter)\(\s*label: "([a-z_]+)"', read(path)))
    return names


def series_names(expr):
    """The series a PromQL expression reads: identifiers that are not functions, aggregation
    labels, label matchers or ranges."""
    bare = re.sub(r"\{[^}]*\}|\[[^\]]*\]", "", expr)
    bare = re.sub(r"\b(by|without)\s*\([^)]*\)", "", bare)
    return set(re.findall(r"\b([a-z_][a-z0-9_]*)\b(?!\s*\()", bare))


def assert_signing_keys(test, value):
    """`kid=seed[,kid=seed…]` with a 32-byte Ed25519 seed in base64url without padding."""
    for entry in value.split(","):
        kid, _, seed = entry.partition("=")
        test.assertRegex(kid, r"^[A-Za-z0-9_-]+$")
        test.assertNotIn("=", seed)
        test.assertEqual(len(base64.urlsafe_b64decode(seed + "=" * (-len(seed) % 4))), 32)


class Dockerfile(unittest.TestCase):
    def test_the_image_builds_every_program_the_manifests_start(self):
        dockerfile = read("deploy/docker/Dockerfile")
        package = read("Package.swift")
        products = set(re.search(r"for product in ([a-z -]+); do", dockerfile).group(1).split())
        executables = set(re.findall(r'\.executable\(name: "([a-z-]+)"', package))
        self.assertTrue(products <= executables, products - executables)
        started = set(PROGRAMS)
        for path in glob.glob(os.path.join(ROOT, "deploy", "k8s", "*.yaml")):
            for doc in yaml.safe_load_all(read(path)):
                for container in containers(doc):
                    if container["image"] == "orderflow:dev":
                        started.add(container["command"][0])
        self.assertTrue(started <= products, started - products)

    def test_the_run_stage_gets_every_program_and_listens_on_every_interface(self):
        dockerfile = read("deploy/docker/Dockerfile")
        products = set(re.search(r"for product in ([a-z -]+); do", dockerfile).group(1).split())
        copied = set(re.findall(r'"\$bin"/([a-z-]+)', dockerfile))
        self.assertEqual(copied, products)
        build, run = re.findall(r"^FROM swift:(\S+?)(?: AS \w+)?$", dockerfile, re.M)
        self.assertEqual(run, build + "-slim", "the run stage's Swift runtime is not the build stage's")
        # Other containers reach a program by its service name: loopback would answer only itself.
        self.assertRegex(dockerfile, r"\bHTTP_HOST=0\.0\.0\.0\b")
        compose = yaml.safe_load(read("docker-compose.yml"))["services"]
        for program in PROGRAMS:
            self.assertNotIn("HTTP_HOST", compose[program].get("environment") or {})
        for path in glob.glob(os.path.join(ROOT, "deploy", "k8s", "*.yaml")):
            self.assertNotIn("HTTP_HOST", read(path))

    def test_the_build_stage_uses_the_install_script_and_the_toolchain_line(self):
        dockerfile = read("deploy/docker/Dockerfile")
        self.assertIn("deploy/local/setup.sh --libraries-only", dockerfile)
        self.assertIn("--libraries-only)", read("deploy/local/setup.sh"))
        tools = re.search(r"swift-tools-version: *(\d+)\.(\d+)", read("Package.swift")).groups()
        for image in re.findall(r"^FROM swift:(\d+)\.(\d+)", dockerfile, re.M):
            self.assertGreaterEqual(tuple(map(int, image)), tuple(map(int, tools)))
        for source in re.findall(r"^COPY (?!--from)(\S+)", dockerfile, re.M):
            self.assertTrue(os.path.exists(os.path.join(ROOT, source)), source)


class RuntimeLibraries(unittest.TestCase):
    """The run stage installs every shared library the built programs (and librdkafka) link.

    Reads the programs `make test` just built (ORDERFLOW_BIN_DIR, else .build/debug) with readelf
    and names each library's Debian package with dpkg: this machine is Debian 12, the release the
    images are built on. Skipped where either tool or the programs are missing."""

    # Provided by the run stage's base image (the Swift runtime and what it depends on) or copied
    # into it from the build stage (librdkafka).
    FROM_BASE = re.compile(r"^(libswift.*|libFoundation.*|lib_Foundation.*|libdispatch|libBlocksRuntime|libc|libm|ld-linux-x86-64|ld-linux-aarch64|libgcc_s|libstdc\+\+|libpthread|libdl|librt)\.so")

    def test_every_linked_library_is_installed_or_copied(self):
        bin_dir = os.environ.get("ORDERFLOW_BIN_DIR") or os.path.join(ROOT, ".build", "debug")
        programs = [os.path.join(bin_dir, p) for p in PROGRAMS]
        if not all(os.path.isfile(p) for p in programs) or not shutil.which("readelf") or not shutil.which("dpkg"):
            self.skipTest(f"no built programs in {bin_dir}, or no readelf/dpkg: linked libraries not checked")
        dockerfile = read("deploy/docker/Dockerfile")
        run_stage = dockerfile.split("\nFROM ")[-1]
        installed = set(re.search(r"--no-install-recommends\s+([^&]+)&&", run_stage).group(1).split()) - {"\\"}
        self.assertIn("cp -P .deps/librdkafka/lib/librdkafka*.so* /out/lib/", dockerfile)
        rdkafka = os.path.join(ROOT, ".deps", "librdkafka", "lib", "librdkafka.so.1")
        needed = set()
        for binary in programs + ([rdkafka] if os.path.isfile(rdkafka) else []):
            dynamic = subprocess.run(["readelf", "-d", binary], check=True, capture_output=True, text=True).stdout
            needed |= set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dynamic))
        self.assertIn("librdkafka.so.1", needed)
        missing = {}
        for library in sorted(needed - {"librdkafka.so.1"}):
            if self.FROM_BASE.match(library):
                continue
            owner = subprocess.run(["dpkg", "-S", f"*/{library}"], capture_output=True, text=True).stdout
            packages = {line.split(":")[0] for line in owner.splitlines() if line}
            if not packages & installed:
                missing[library] = sorted(packages) or ["no Debian package"]
        self.assertEqual(missing, {}, "the run stage lacks these libraries (library: packages that provide it)")


def schema_tools():
    """(compose-spec JSON schema path, kubernetes_validate module), or a reason they are missing.
    `make test` installs both into .deps/python-manifests and requires them
    (ORDERFLOW_REQUIRE_SCHEMAS=1); a bare `python3 -m unittest` skips these checks instead."""
    compose = importlib.util.find_spec("compose")
    try:
        import kubernetes_validate
    except ImportError:
        kubernetes_validate = None
    spec = compose and os.path.join(compose.submodule_search_locations[0], "config", "compose_spec.json")
    if not spec or not os.path.isfile(spec) or kubernetes_validate is None:
        return None, None, "the compose-spec schema (docker-compose 1.29.2) or kubernetes-validate is not installed"
    return spec, kubernetes_validate, None


class PublishedSchemas(unittest.TestCase):
    """docker-compose.yml against the compose specification's JSON schema, every Kubernetes
    resource against the API's own schema (strict: an unknown field is an error)."""

    KUBERNETES_VERSION = "1.30.0"  # the oldest API the manifests promise to fit

    def setUp(self):
        self.compose_schema, self.kubernetes, missing = schema_tools()
        if missing:
            if os.environ.get("ORDERFLOW_REQUIRE_SCHEMAS"):
                self.fail(missing)
            self.skipTest(missing)

    def test_compose_file_fits_the_compose_specification(self):
        import jsonschema
        with open(self.compose_schema) as f:
            schema = json.load(f)
        errors = [f"{'/'.join(map(str, e.path))}: {e.message}"
                  for e in jsonschema.Draft201909Validator(schema).iter_errors(yaml.safe_load(read("docker-compose.yml")))]
        self.assertEqual(errors, [])

    def test_kubernetes_resources_fit_the_api(self):
        for path in sorted(glob.glob(os.path.join(ROOT, "deploy", "k8s", "*.yaml"))):
            if path.endswith("kustomization.yaml"):
                continue
            for doc in yaml.safe_load_all(read(path)):
                if not doc:
                    continue
                with self.subTest(file=os.path.basename(path), kind=doc["kind"]):
                    try:
                        self.kubernetes.validate(doc, self.KUBERNETES_VERSION, strict=True)
                    except self.kubernetes.ValidationError as error:
                        self.fail(str(error).splitlines()[0])


def containers(doc):
    if not doc or doc.get("kind") not in ("Deployment", "StatefulSet"):
        return []
    return doc["spec"]["template"]["spec"]["containers"]


class Kubernetes(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.docs = {}
        for path in sorted(glob.glob(os.path.join(ROOT, "deploy", "k8s", "*.yaml"))):
            name = os.path.basename(path)
            if name != "kustomization.yaml":
                cls.docs[name] = [d for d in yaml.safe_load_all(read(path)) if d]
        cls.all = [d for docs in cls.docs.values() for d in docs]
        cls.kustomization = yaml.safe_load(read("deploy/k8s/kustomization.yaml"))
        with tempfile.TemporaryDirectory() as work:
            path = os.path.join(work, "secrets.env")
            subprocess.run([os.path.join(ROOT, "deploy", "k8s", "make-secrets.sh"), path], check=True, capture_output=True)
            cls.secrets = dict(line.split("=", 1) for line in read(path).splitlines())
            cls.secrets_mode = os.stat(path).st_mode & 0o777

    def workloads(self):
        return [d for d in self.all if d["kind"] in ("Deployment", "StatefulSet")]

    def test_kustomization_lists_every_file(self):
        self.assertEqual(sorted(self.kustomization["resources"]), sorted(self.docs))
        for doc in self.all:
            self.assertIn("apiVersion", doc)
            self.assertTrue(doc["metadata"]["name"])

    def test_selectors_match_and_services_reach_a_named_port(self):
        for workload in self.workloads():
            labels = workload["spec"]["template"]["metadata"]["labels"]
            self.assertTrue(workload["spec"]["selector"]["matchLabels"].items() <= labels.items(), workload["metadata"]["name"])
        for service in (d for d in self.all if d["kind"] == "Service"):
            with self.subTest(service=service["metadata"]["name"]):
                selector = service["spec"]["selector"].items()
                matched = [w for w in self.workloads() if selector <= w["spec"]["template"]["metadata"]["labels"].items()]
                self.assertEqual(len(matched), 1)
                port_names = {p["name"] for c in containers(matched[0]) for p in c["ports"]}
                for port in service["spec"]["ports"]:
                    self.assertIn(port["targetPort"], port_names)

    def program_env(self, program):
        workload = next(w for w in self.workloads() if w["metadata"]["name"] == program)
        container = containers(workload)[0]
        self.assertEqual(container["command"], [program])
        env = dict(self.config())
        env.update({e["name"]: e.get("value", "<secret>") for e in container.get("env", [])})
        return container, env

    def config(self):
        refs = {ref["configMapRef"]["name"] for w in self.workloads() for c in containers(w) for ref in c.get("envFrom", [])}
        maps = {d["metadata"]["name"]: d["data"] for d in self.all if d["kind"] == "ConfigMap"}
        self.assertTrue(refs <= set(maps), refs - set(maps))
        return maps["orderflow-config"]

    def test_every_program_has_its_settings_port_and_probes(self):
        service_ports = {d["metadata"]["name"]: d["spec"]["ports"][0]["port"] for d in self.all if d["kind"] == "Service"}
        for program, port in PROGRAMS.items():
            with self.subTest(program=program):
                container, env = self.program_env(program)
                own = [e["name"] for e in container.get("env", [])] + list(self.config())
                unknown = sorted(n for n in own if not is_setting_of(program, n) and not re.match(r"^[A-Z]+_DB_PASSWORD$", n))
                self.assertEqual(unknown, [])
                self.assertEqual(sorted(REQUIRED[program] - set(env)), [])
                self.assertEqual(int(env["HTTP_PORT"]), port)
                self.assertEqual(service_ports[program], port)
                self.assertEqual(container["ports"][0]["containerPort"], port)
                # The gateway's /health/ready aggregates its upstreams: as a readiness probe it would
                # take every gateway out of the Service when one upstream restarts.
                expected = "/health" if program == "gateway" else "/health/ready"
                self.assertEqual(container["readinessProbe"]["httpGet"]["path"], expected)
                if "KAFKA_BROKERS" in env:
                    for broker in env["KAFKA_BROKERS"].split(","):
                        host, port = broker.split(":")
                        self.assertEqual(service_ports.get(host), int(port), broker)
                for value in env.values():
                    target = url_host_port(value) if "://" in value else None
                    if target:
                        self.assertIn(target[0], service_ports, value)
                        self.assertEqual(service_ports[target[0]], target[1], value)
                # $(VAR) in a value expands only a variable defined before it in the same list.
                defined = set(self.config())
                for e in container.get("env", []):
                    for reference in re.findall(r"\$\(([A-Z_]+)\)", e.get("value", "")):
                        self.assertIn(reference, defined, f"{e['name']} uses $({reference}) before it is defined")
                    defined.add(e["name"])
        self.assertTrue(SIGNING_KEY_SETTINGS & set(self.program_env("users")[1]), "users has no signing key")

    def test_secret_references_are_generated_by_make_secrets(self):
        for workload in self.workloads():
            for container in containers(workload):
                for e in container.get("env", []):
                    ref = e.get("valueFrom", {}).get("secretKeyRef")
                    if ref:
                        self.assertEqual(ref["name"], self.kustomization["secretGenerator"][0]["name"])
                        self.assertIn(ref["key"], self.secrets)
        self.assertEqual(self.secrets_mode, 0o600)
        assert_signing_keys(self, self.secrets["JWT_SIGNING_KEYS"])
        self.assertGreaterEqual(len(self.secrets["USERS_ADMIN_PASSWORD"]), 10)  # users' minimum

    def test_database_urls_use_the_passwords_postgres_is_given(self):
        postgres = next(w for w in self.workloads() if w["metadata"]["name"] == "postgres")
        given = {e["name"]: e["valueFrom"]["secretKeyRef"]["key"] for e in containers(postgres)[0]["env"] if "valueFrom" in e}
        init = read("deploy/docker/postgres-init.sh")
        for service in DATA_SERVICES:
            with self.subTest(service=service):
                variable = f"{service.upper()}_DB_PASSWORD"
                self.assertIn(f'-v {service}_password="${variable}"', init)
                container, env = self.program_env(service)
                own = {e["name"]: e for e in container["env"]}
                self.assertEqual(own[variable]["valueFrom"]["secretKeyRef"]["key"], given[variable])
                self.assertIn(f"postgres://{service}:$({variable})@postgres:5432/orderflow", env["DATABASE_URL"])

    def test_kafka_keeps_its_data_on_the_volume(self):
        kafka = next(w for w in self.workloads() if w["metadata"]["name"] == "kafka")
        container = containers(kafka)[0]
        env = {e["name"]: e.get("value") for e in container["env"]}
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        self.assertIn(env["KAFKA_LOG_DIRS"], mounts)
        claims = {c["metadata"]["name"] for c in kafka["spec"]["volumeClaimTemplates"]}
        self.assertIn(mounts[env["KAFKA_LOG_DIRS"]], claims)
        self.assertIs(kafka["spec"]["template"]["spec"]["enableServiceLinks"], False)

    def test_postgres_mounts_what_apply_creates(self):
        apply = read("deploy/k8s/apply.sh")
        created = dict(re.findall(r'--from-file=([\w.-]+)="\$root/([\w./-]+)"', apply))
        for key, source in created.items():
            self.assertTrue(os.path.isfile(os.path.join(ROOT, source)), source)
        postgres = next(w for w in self.workloads() if w["metadata"]["name"] == "postgres")
        mounted = {m["subPath"] for m in containers(postgres)[0]["volumeMounts"] if "subPath" in m}
        self.assertEqual(mounted, set(created))
        self.assertIn("/orderflow/bootstrap.sql", read("deploy/docker/postgres-init.sh"))

    @unittest.skipUnless(shutil.which("kubectl"), "kubectl is not installed: kustomize build not checked")
    def test_kustomize_builds_every_resource(self):
        with tempfile.TemporaryDirectory() as work:
            copy = os.path.join(work, "k8s")
            shutil.copytree(os.path.join(ROOT, "deploy", "k8s"), copy, ignore=shutil.ignore_patterns("secrets.env"))
            subprocess.run([os.path.join(copy, "make-secrets.sh")], check=True, capture_output=True)
            built = subprocess.run(["kubectl", "kustomize", copy], check=True, capture_output=True, text=True, timeout=60).stdout
        kinds = sorted(d["kind"] for d in yaml.safe_load_all(built) if d)
        expected = sorted([d["kind"] for d in self.all] + ["Secret"])
        self.assertEqual(kinds, expected)


if __name__ == "__main__":
    unittest.main()
