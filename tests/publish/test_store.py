"""The durable targets behind ``reconciler.publish.store``: a directory of files, SSM Parameter
Store and S3, the last two through boto3 against moto's server on loopback (``moto`` fixture).
Every target keeps the same promises; each is checked on all three."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from pydantic import ValidationError

from reconciler.config.load import load_config
from reconciler.config.models import PublishTarget
from reconciler.providers.aws.s3 import ConditionsIgnored, S3Store, forbid_overwrite_header
from reconciler.providers.aws.ssm import SsmStore
from reconciler.publish.store import KEYS, Store, TargetUnreachable, channel_store
from reconciler.publish.targets import file_target
from reconciler.publish.targets.file import FileStore
from tests.reconcile.test_status import SANDBOX_KEY, Config, Run, apply, no_idle_waits

BUCKET = "smsops-state"
KINDS = ("file", "ssm", "s3")


def make_store(kind: str, tmp_path: Path, endpoint: str) -> Store:
    if kind == "file":
        return FileStore(tmp_path / "published" / "prod.json")
    if kind == "ssm":
        return SsmStore("/smsops/prod", region="eu-west-1")
    s3 = boto3.client("s3", region_name="eu-west-1", endpoint_url=endpoint)
    if BUCKET not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    return S3Store(BUCKET, "teams/sms", "prod", region="eu-west-1", endpoint=endpoint)


@pytest.fixture(params=KINDS)
def store(request: pytest.FixtureRequest, moto: str, tmp_path: Path) -> Store:
    return make_store(request.param, tmp_path, moto)


def doc(n: int) -> str:
    return json.dumps({"format_version": 1, "n": n}, indent=2) + "\n"


def value(store: Store, key: str = "config") -> object:
    found = store.read(key)  # type: ignore[arg-type]
    return None if found is None else json.loads(found.text)


def test_write_replaces_and_says_whether_anything_changed(store: Store) -> None:
    assert store.read("config") is None
    assert store.write("config", doc(1)) is True
    first = store.read("config")
    assert first is not None and json.loads(first.text) == {"format_version": 1, "n": 1}
    assert store.write("config", doc(1)) is False
    assert store.read("config") == first  # unchanged: same token, no new version
    assert store.write("config", doc(2)) is True
    second = store.read("config")
    assert second is not None and second.token != first.token and value(store) == {"format_version": 1, "n": 2}


def test_keys_are_separate_documents(store: Store) -> None:
    for n, key in enumerate(KEYS):
        assert store.create(key, doc(n))
    assert [value(store, key) for key in KEYS] == [{"format_version": 1, "n": n} for n in range(3)]
    assert len({store.location(key) for key in KEYS}) == 3


def test_create_only_when_absent(store: Store) -> None:
    assert store.create("lock", doc(1)) is True
    assert store.create("lock", doc(2)) is False
    assert value(store, "lock") == {"format_version": 1, "n": 1}


def test_replace_only_while_unchanged(store: Store) -> None:
    assert store.replace("marks", doc(1), "no-such-token") is False
    assert store.read("marks") is None  # replace never creates
    store.write("marks", doc(1))
    old = store.read("marks")
    assert old is not None
    assert store.replace("marks", doc(2), old.token) is True
    assert value(store, "marks") == {"format_version": 1, "n": 2}
    assert store.replace("marks", doc(3), old.token) is False  # stale token: someone wrote since
    assert value(store, "marks") == {"format_version": 1, "n": 2}


def test_delete_with_a_token_only_while_unchanged(store: Store) -> None:
    assert store.delete("lock") is False  # absent
    store.create("lock", doc(1))
    old = store.read("lock")
    assert old is not None
    store.write("lock", doc(2))
    assert store.delete("lock", old.token) is False
    assert value(store, "lock") == {"format_version": 1, "n": 2}
    current = store.read("lock")
    assert current is not None
    assert store.delete("lock", current.token) is True
    assert store.read("lock") is None
    assert store.delete("lock", current.token) is False
    store.create("lock", doc(3))
    assert store.delete("lock") is True and store.read("lock") is None


def test_check_passes_on_a_reachable_target(store: Store) -> None:
    store.check()
    store.write("config", doc(1))
    store.check()


def test_physical_names(moto: str, tmp_path: Path) -> None:
    """Today's names stay: ``<stem>.marks.json`` beside the file and ``<prefix>/config|marks`` in SSM."""
    file, ssm, s3 = (make_store(kind, tmp_path, moto) for kind in KINDS)
    for store in (file, ssm, s3):
        for key in KEYS:
            store.write(key, doc(KEYS.index(key)))
    published = tmp_path / "published"
    assert sorted(p.name for p in published.iterdir()) == ["prod.json", "prod.lock", "prod.marks.json"]
    assert json.loads((published / "prod.marks.json").read_text())["n"] == 1
    parameters = boto3.client("ssm", region_name="eu-west-1").get_parameters_by_path(Path="/smsops/prod")
    assert {p["Name"]: p["Value"] for p in parameters["Parameters"]} == {
        "/smsops/prod/config": '{"format_version":1,"n":0}',  # compact: more fits in SSM's 4 KB
        "/smsops/prod/marks": '{"format_version":1,"n":1}',
        "/smsops/prod/lock": '{"format_version":1,"n":2}',
    }
    objects = boto3.client("s3", region_name="eu-west-1").list_objects_v2(Bucket=BUCKET)["Contents"]
    assert sorted(o["Key"] for o in objects) == [
        "teams/sms/prod.json",
        "teams/sms/prod.lock",
        "teams/sms/prod.marks.json",
    ]
    assert (file.where, ssm.where, s3.where) == (
        f"file {published / 'prod.json'}",
        "ssm:/smsops/prod (eu-west-1)",
        f"s3://{BUCKET}/teams/sms at {moto}",
    )
    assert s3.location("marks") == f"s3://{BUCKET}/teams/sms/prod.marks.json at {moto}"


# -- unreachable targets ------------------------------------------------------------------------------


def test_an_unreachable_ssm_endpoint_is_a_clear_error(
    moto: str, closed_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", closed_endpoint)
    store = SsmStore("/smsops/prod", region="eu-west-1")
    acts: list[tuple[str, Callable[[], object]]] = [
        ("config", store.check),
        ("config", lambda: store.write("config", doc(1))),
        ("lock", lambda: store.create("lock", doc(1))),
    ]
    for key, act in acts:
        with pytest.raises(TargetUnreachable) as caught:
            act()
        assert str(caught.value) == (
            f"cannot reach the publish target ssm:/smsops/prod/{key} (eu-west-1): Could not connect to the "
            f'endpoint URL: "{closed_endpoint}/"\n'
            "  hint: check the network and the endpoint (spec.publish, AWS_ENDPOINT_URL*); the target was retried"
        )


def test_an_unreachable_s3_endpoint_is_a_clear_error(closed_endpoint: str, moto: str) -> None:
    store = S3Store(BUCKET, "p", "prod", region="eu-west-1", endpoint=closed_endpoint)
    with pytest.raises(TargetUnreachable) as caught:
        store.check()
    assert str(caught.value).startswith(
        f"cannot reach the publish target s3://{BUCKET}/p/prod.json at {closed_endpoint}: Could not connect to the "
        f'endpoint URL: "{closed_endpoint}/{BUCKET}/p/prod.json"'
    )


def s3_client(moto: str) -> Any:
    """A boto3 client for moto's server, with the bucket made."""
    client = boto3.client("s3", region_name="eu-west-1", endpoint_url=moto)
    if BUCKET not in [b["Name"] for b in client.list_buckets()["Buckets"]]:
        client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    return client


@pytest.mark.parametrize(
    ("endpoint", "header"),
    [
        ("https://oss-cn-hangzhou.aliyuncs.com", "x-oss-forbid-overwrite"),
        ("https://my-bucket.oss-cn-hangzhou-internal.aliyuncs.com", "x-oss-forbid-overwrite"),
        ("https://cos.ap-guangzhou.myqcloud.com", "x-cos-forbid-overwrite"),
        ("https://s3.eu-west-1.amazonaws.com", None),
        ("http://127.0.0.1:9000", None),
        ("https://notaliyuncs.com", None),
        (None, None),
    ],
)
def test_the_stores_own_do_not_overwrite_header_by_endpoint(endpoint: str | None, header: str | None) -> None:
    assert forbid_overwrite_header(endpoint) == header


def test_a_create_at_an_oss_endpoint_sends_its_forbid_overwrite_header_with_if_none_match(moto: str) -> None:
    # moto's server stands in for the OSS endpoint the store is configured with: the headers on the wire are checked
    client = s3_client(moto)
    sent: list[dict[str, str]] = []
    client.meta.events.register(
        "before-send.s3.PutObject",
        lambda request, **_: sent.append(
            {k: str(v, "utf-8") if isinstance(v, bytes) else v for k, v in request.headers.items()}
        ),
    )
    store = S3Store(
        BUCKET, "oss", "prod", region="cn-hangzhou", endpoint="https://oss-cn-hangzhou.aliyuncs.com", client=client
    )
    assert store.create("lock", doc(1)) is True
    assert store.write("config", doc(1)) is True
    conditional, check, plain = sent
    assert conditional["If-None-Match"] == check["If-None-Match"] == "*"
    assert conditional["x-oss-forbid-overwrite"] == check["x-oss-forbid-overwrite"] == "true"
    assert "If-None-Match" not in plain and "x-oss-forbid-overwrite" not in plain


def ignoring_store(moto: str, prefix: str) -> S3Store:
    """An S3 store on moto's server whose puts lose If-None-Match: a store without conditional writes."""
    client = s3_client(moto)

    def ignore_conditions(params: dict[str, Any], **_: Any) -> None:
        params["headers"].pop("If-None-Match", None)

    client.meta.events.register("before-call.s3.PutObject", ignore_conditions)
    return S3Store(BUCKET, prefix, "prod", region="eu-west-1", endpoint=moto, client=client)


def test_a_store_that_ignores_conditional_writes_is_refused_and_no_lock_is_left(moto: str) -> None:
    store = ignoring_store(moto, "ignoring")
    with pytest.raises(ConditionsIgnored) as caught:
        store.create("lock", doc(1))
    assert str(caught.value) == (
        f"the store at s3://{BUCKET}/ignoring/prod.lock at {moto} ignores conditional writes (If-None-Match): "
        "two applies could both take the lease\n  hint: publish to a store that supports S3 conditional writes "
        "(AWS S3, MinIO), to spec.publish.ssmPrefix, or to a file the pipeline keeps"
    )
    assert store.read("lock") is None


def test_a_missing_bucket_is_named(moto: str) -> None:
    store = S3Store("no-such-bucket", "p", "prod", region="eu-west-1", endpoint=moto)
    with pytest.raises(TargetUnreachable) as caught:
        store.write("config", doc(1))
    assert str(caught.value) == (
        f"cannot reach the publish target s3://no-such-bucket/p/prod.json at {moto}: s3:GetObject: NoSuchBucket: "
        "The specified bucket does not exist\n  hint: check the target's settings (spec.publish) and that the "
        "credentials allow s3:GetObject, s3:PutObject and s3:DeleteObject on the objects and s3:ListBucket on "
        "the bucket"
    )


def test_ssm_refuses_a_document_over_its_limit_before_writing(moto: str) -> None:
    store = SsmStore("/smsops/prod", region="eu-west-1")
    with pytest.raises(Exception, match=r"/smsops/prod/marks: the marks document is \d+ bytes, more than SSM's 8192"):
        store.write("marks", json.dumps({"marks": {f"code{i}": "x" * 100 for i in range(100)}}))
    assert store.read("marks") is None


def as_another_user(act: Callable[[], object]) -> str:
    """What ``act`` raised, run without the rights of the files' owner: as root, in a child process
    that has become ``nobody`` (root may write anywhere); otherwise here."""
    if os.geteuid() != 0:
        try:
            act()
        except TargetUnreachable as error:
            return str(error)
        return "no error"
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        try:
            os.setgid(65534)
            os.setuid(65534)
            try:
                act()
                out = "no error"
            except TargetUnreachable as error:
                out = str(error)
            except BaseException as error:
                out = f"unexpected {type(error).__name__}"
            os.write(write, out.encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as stream:
        out = stream.read().decode()
    os.waitpid(pid, 0)
    return out


def test_a_file_target_without_permission_is_a_clear_error(tmp_path: Path) -> None:
    published = tmp_path / "published"
    published.mkdir()
    published.chmod(0o555)
    tmp_path.chmod(0o755)
    store = FileStore(published / "prod.json")
    message = as_another_user(lambda: store.write("config", doc(1)))
    assert message.startswith(f"cannot use the publish target {published}: permission denied\n  hint: let the user")
    assert as_another_user(store.check).startswith("cannot use the publish target")
    assert not (published / "prod.json").exists()


def test_a_file_target_that_is_a_directory_or_below_a_file(tmp_path: Path) -> None:
    (tmp_path / "prod.json").mkdir()
    with pytest.raises(TargetUnreachable, match=r"prod.json: it is a directory\n  hint: point spec.publish.file at"):
        FileStore(tmp_path / "prod.json").check()
    (tmp_path / "afile").write_text("x")
    for act in ("write", "create", "check"):
        store = FileStore(tmp_path / "afile" / "prod.json")
        with pytest.raises(TargetUnreachable) as caught:
            getattr(store, act)(*(("config", doc(1)) if act != "check" else ()))
        assert str(caught.value) == (
            f"cannot use the publish target {tmp_path / 'afile'}: a file is where a directory should be\n"
            "  hint: point spec.publish.file below a directory"
        ), act


# -- configuration and the CLI --------------------------------------------------------------------------

S3_PUBLISH = "  publish: {{s3: {{bucket: {bucket}, prefix: smsops/demo, endpoint: '{endpoint}'}}}}\n"


def test_a_channel_publishing_to_s3_validates_and_gets_its_store(
    tmp_path: Path, moto: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(SANDBOX_KEY))
    config = Config(tmp_path / "cfg")
    channel_file = config.root / "channels" / "demo.yaml"
    channel_file.write_text(channel_file.read_text() + S3_PUBLISH.format(bucket=BUCKET, endpoint=moto))
    loaded, diagnostics = load_config(config.root)
    assert diagnostics == []
    store = channel_store(loaded, loaded.channels[0])
    assert isinstance(store, S3Store)
    assert store.location("config") == f"s3://{BUCKET}/smsops/demo/demo.json at {moto}"
    assert channel_store(loaded, loaded.channels[0]).location("lock").endswith("smsops/demo/demo.lock at " + moto)


def test_an_s3_endpoint_cannot_carry_credentials() -> None:
    """Credentials come from the AWS chain; an endpoint is printed in messages, so it holds none."""
    s3 = {"bucket": "my-bucket", "prefix": "smsops", "endpoint": "https://minio.example:9000"}
    assert PublishTarget.model_validate({"s3": s3}).s3 is not None
    with pytest.raises(ValidationError, match=r"s3\.endpoint"):
        PublishTarget.model_validate({"s3": {**s3, "endpoint": "https://key:secret@minio.example:9000"}})


def test_two_targets_are_a_schema_error_at_the_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(SANDBOX_KEY))
    config = Config(tmp_path / "cfg")
    channel_file = config.root / "channels" / "demo.yaml"
    lines = channel_file.read_text()
    channel_file.write_text(lines + "  publish: {ssmPrefix: /a, s3: {bucket: my-bucket, prefix: p}}\n")
    _, diagnostics = load_config(config.root)
    line = len(lines.splitlines()) + 1
    assert [d.format() for d in diagnostics] == [
        f"{channel_file}:{line}:12: error SMS020: spec.publish: set exactly one of file, ssmPrefix or s3\n"
        "  hint: the field's description in schemas/*.json says what it takes"
    ]


def test_export_publishes_to_s3_and_fails_cleanly_when_it_cannot(
    moto: str, closed_endpoint: str, run_cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(SANDBOX_KEY))
    no_idle_waits(monkeypatch)
    config = Config(tmp_path / "cfg")
    make_store("s3", tmp_path, moto)  # the bucket
    channel_file = config.root / "channels" / "demo.yaml"
    plain = channel_file.read_text()
    channel_file.write_text(plain + S3_PUBLISH.format(bucket=BUCKET, endpoint=moto))
    apply(run_cli, config)
    config.account.approve(config.only_code())
    apply(run_cli, config)

    code, _, err = run_cli("export", str(config.root))
    assert code == 0, err
    # apply publishes the promotion itself; export then finds the target up to date
    assert f"demo: unchanged s3://{BUCKET}/smsops/demo/demo.json at {moto}\n" in err
    body = boto3.client("s3", region_name="eu-west-1").get_object(Bucket=BUCKET, Key="smsops/demo/demo.json")["Body"]
    text = body.read().decode()
    assert json.loads(text)["channel"]["templates"]["login"]["code"] == config.only_code()
    for secret in config.secret_values:
        assert secret not in text
    loaded, _ = load_config(config.root)
    local = file_target(loaded, loaded.channels[0])  # the runner-local copy
    assert local.read_text() == text

    channel_file.write_text(plain + S3_PUBLISH.format(bucket=BUCKET, endpoint=closed_endpoint))
    code, out, err = run_cli("export", str(config.root))
    assert code == 1
    assert (
        f"cannot reach the publish target s3://{BUCKET}/smsops/demo/demo.json at {closed_endpoint}: "
        f'Could not connect to the endpoint URL: "{closed_endpoint}/{BUCKET}/smsops/demo/demo.json"'
    ) in err
    assert "Traceback" not in out + err

    channel_file.write_text(plain + "  publish: {ssmPrefix: /smsops/demo}\n")
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", closed_endpoint)
    code, out, err = run_cli("export", str(config.root))
    assert code == 1
    assert "cannot reach the publish target ssm:/smsops/demo/config (eu-west-1): Could not connect" in err
    assert "could not read its publish target, nothing exported" in err and "check spec.publish" in err
    assert "Traceback" not in out + err


@pytest.mark.parametrize("kind", ["ssm", "s3"])
def test_plan_and_apply_stop_cleanly_before_any_change_when_the_target_cannot_be_reached(
    kind: str, moto: str, closed_endpoint: str, run_cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A runner that cannot reach the durable target must not act blind: the channel is blocked with
    a hint about the target, apply creates nothing at the provider and takes no lease, no traceback."""
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(SANDBOX_KEY))
    no_idle_waits(monkeypatch)
    config = Config(tmp_path / "cfg")
    channel_file = config.root / "channels" / "demo.yaml"
    if kind == "s3":
        channel_file.write_text(channel_file.read_text() + S3_PUBLISH.format(bucket=BUCKET, endpoint=closed_endpoint))
    else:
        channel_file.write_text(channel_file.read_text() + "  publish: {ssmPrefix: /smsops/demo}\n")
        monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", closed_endpoint)

    code, out, err = run_cli("plan", str(config.root))
    assert code == 1, out + err
    assert "cannot reach the publish target" in out + err
    assert "check spec.publish, that the target can be reached from here" in out + err
    assert "Traceback" not in out + err

    code, out, err = run_cli("apply", str(config.root), "--auto-approve")
    assert code == 1, out + err
    assert "cannot reach the publish target" in out + err
    assert "Traceback" not in out + err
    assert config.codes() == {}  # nothing was created at the provider
