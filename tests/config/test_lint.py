"""Lint rules: each rule's exact message, position and severity, on configs loaded by the real loader."""

from __future__ import annotations

import os
import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.config.lint.run import RULES, check
from reconciler.config.load import load_config
from reconciler.errors import Severity

CORPUS = Path(__file__).parents[1] / "corpus"
ENCRYPTED = CORPUS / "sops-recipients-key-missing" / "secrets" / "sandbox.enc.yaml"  # a real sops file
SANDBOX = """\
apiVersion: smsops/v1
kind: Channel
metadata:
  name: sandbox
spec:
  provider: sandbox
  signature:
    name: OnePro
"""
TENCENT = """\
apiVersion: smsops/v1
kind: Channel
metadata:
  name: tencent-cn
spec:
  provider: tencent
  credentials:
    sops: ../secrets/s.enc.yaml
  signature:
    name: OnePro
    smsSdkAppId: "1400000000"
"""
AWS = """\
apiVersion: smsops/v1
kind: Channel
metadata:
  name: aws-us
spec:
  provider: aws
  credentials:
    sops: ../secrets/s.enc.yaml
  signature:
    name: Acme
    country: US
"""


def template(spec: str, name: str = "t1") -> str:
    return f"apiVersion: smsops/v1\nkind: Template\nmetadata:\n  name: {name}\nspec:\n" + textwrap.indent(
        textwrap.dedent(spec), "  "
    )


VERIFY = """\
type: verification
content: "Your code is {{ code }}."
variables:
  code: {type: code, example: "482913", maxLength: 6}
remark: Sent at sign-in.
"""


def lint(
    tmp_path: Path, files: dict[str, str], *, load_errors: bool = False
) -> list[tuple[str, int, int, str, str, Severity]]:
    (tmp_path / "secrets").mkdir(exist_ok=True)
    shutil.copy(ENCRYPTED, tmp_path / "secrets" / "s.enc.yaml")
    for relative, text in files.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    config, loaded = load_config(tmp_path)
    assert load_errors or not [d for d in loaded if d.severity is Severity.ERROR], loaded
    return [
        (str(Path(d.file).relative_to(tmp_path)), d.line, d.column, d.rule, d.message, d.severity)
        for d in check(config)
    ]


def only(tmp_path: Path, files: dict[str, str], rule: str) -> list[tuple[str, int, int, str, Severity]]:
    return [(f, line, col, msg, sev) for f, line, col, r, msg, sev in lint(tmp_path, files) if r == rule]


E, W = Severity.ERROR, Severity.WARNING
T = "templates/t.yaml"


def test_catalogue_is_complete_and_consistent() -> None:
    assert all(rule_id == rule.id and rule.title and rule.hint for rule_id, rule in RULES.items())
    assert RULES["SMS111"].severity is W and RULES["SMS110"].severity is E
    assert {rule_id[:4] for rule_id in RULES} == {"SMS1", "SMS2", "SMS3", "SMS4"}


def test_valid_config_is_clean(tmp_path: Path) -> None:
    assert lint(tmp_path, {"channels/c.yaml": SANDBOX, T: template(VERIFY)}) == []


def test_example_config_is_clean(repo_root: Path) -> None:
    config, loaded = load_config(repo_root / "sms-config")
    assert loaded == [] and check(config) == []


def test_content_problem_points_inside_the_content(tmp_path: Path) -> None:
    spec = VERIFY.replace('"Your code is {{ code }}."', '"Your code is {{ code|e }}."')
    assert only(tmp_path, {"channels/c.yaml": SANDBOX, T: template(spec)}, "SMS102") == [
        (T, 7, 26, "{{ code|e }} uses the filter 'e'; only {{ name }} is allowed", E)
    ]


def test_content_problem_in_a_literal_block(tmp_path: Path) -> None:
    spec = VERIFY.replace('"Your code is {{ code }}."', "|\n  Your code is {{ code }}.\n  Hi {{ u.n }}")
    assert only(tmp_path, {"channels/c.yaml": SANDBOX, T: template(spec)}, "SMS105") == [
        (T, 9, 8, "{{ u.n }} is attribute access; only a plain {{ name }} is allowed", E)
    ]


def test_content_problem_in_a_folded_scalar_points_at_the_value(tmp_path: Path) -> None:
    spec = VERIFY.replace('"Your code is {{ code }}."', ">\n  Your code is\n  {{ code|e }}")
    assert only(tmp_path, {"channels/c.yaml": SANDBOX, T: template(spec)}, "SMS102") == [
        (T, 7, 12, "{{ code|e }} uses the filter 'e'; only {{ name }} is allowed", E)
    ]


def test_undeclared_and_unused_variables(tmp_path: Path) -> None:
    spec = VERIFY.replace("{{ code }}.", "{{ code }} for {{ user }}.").replace(
        "remark:", "  minutes: {type: number, example: '5'}\nremark:"
    )
    found = lint(tmp_path, {"channels/c.yaml": SANDBOX, T: template(spec)})
    assert (T, 7, 41, "SMS110", "variable 'user' is used in content but not declared in spec.variables", E) in found
    assert (T, 10, 14, "SMS111", "variable 'minutes' is declared but not used in content", W) in found


def test_adjacent_all_variable_and_placeholder_text(tmp_path: Path) -> None:
    spec = """\
    type: notification
    content: "{{ a }}{{ b }}"
    variables:
      a: {type: text, example: "x"}
      b: {type: text, example: "y"}
    remark: r
    """
    found = lint(tmp_path, {"channels/c.yaml": SANDBOX, T: template(spec)})
    assert (T, 7, 20, "SMS112", "variables 'a' and 'b' are adjacent; providers reject templates with no text "
            "between variables", E) in found  # fmt: skip
    assert (T, 7, 12, "SMS113", "content is only variables; providers reject templates without fixed text", E) in found
    spec = VERIFY.replace("Your code", "Pay ${5} with code")
    assert only(tmp_path, {T: template(spec)}, "SMS117") == [
        (T, 7, 12, "the text contains '${', which Alibaba or Tencent would read as a variable", W)
    ]


def test_example_and_verification_rules(tmp_path: Path) -> None:
    spec = """\
    type: verification
    content: "Use {{ pin }} or {{ url }} now."
    variables:
      pin: {type: number, example: "1234567", maxLength: 6}
      url: {type: link, example: "https://a.example/x"}
    remark: r
    """
    found = lint(tmp_path, {"channels/c.yaml": SANDBOX, T: template(spec)})
    assert (T, 9, 34, "SMS114", "example of 'pin' is 7 characters; maxLength is 6", E) in found
    assert (
        T,
        6,
        9,
        "SMS115",
        "a verification template needs exactly one variable of type code; found none",
        E,
    ) in found
    assert (T, 10, 17, "SMS116", "variable 'url' is a link; verification templates may not carry links", E) in found


def test_alibaba_limits(tmp_path: Path) -> None:
    spec = VERIFY.replace("remark: Sent at sign-in.", "remark: ''").replace('example: "482913"', 'example: "12"')
    found = lint(tmp_path, {"channels/c.yaml": SANDBOX, T: template(spec, name="a" * 23)})
    assert (T, 4, 9, "SMS201", f"name '{'a' * 23}' is 23 characters; with the 8-character version suffix the "
            "Alibaba template name would be 31 (at most 30)", E) in found  # fmt: skip
    assert (
        T,
        10,
        11,
        "SMS203",
        "spec.remark is empty; Alibaba reviewers require an explanation of the template",
        E,
    ) in found
    assert (
        T,
        9,
        33,
        "SMS206",
        "example of code variable 'code' must be 4-6 digits for Alibaba; got 2 characters",
        E,
    ) in found
    long = VERIFY.replace("Your code", "x" * 490 + " code").replace("Sent at sign-in.", "r" * 101)
    found = lint(tmp_path, {T: template(long)})
    assert (T, 7, 12, "SMS202", "content is 507 characters in Alibaba form; Alibaba allows at most 500", E) in found
    assert (T, 10, 11, "SMS204", "spec.remark is 101 characters; Alibaba allows at most 100", E) in found


def test_signature_length(tmp_path: Path) -> None:
    # The schema allows 2-12 already; this rule is the provider-specific restatement for AWS vs the rest.
    channel = AWS.replace("name: Acme", "name: '1234'")
    assert only(tmp_path, {"channels/c.yaml": channel, T: template(VERIFY)}, "SMS212") == [
        ("channels/c.yaml", 10, 11, "sender ID '1234' is not valid on AWS: 1-11 characters A-Z a-z 0-9 _ -, "
         "at least one letter", E)
    ]  # fmt: skip


def test_tencent_rules(tmp_path: Path) -> None:
    spec = """\
    type: marketing
    international: false
    content: "Sale {{ pct }} off, see {{ url }} and use {{ code }} today"
    variables:
      pct: {type: number, example: "20"}
      url: {type: link, example: "https://shop.example/spring"}
      code: {type: code, example: "1234", maxLength: 8}
    remark: Spring campaign.
    """
    found = lint(tmp_path, {"channels/t.yaml": TENCENT, T: template(spec)})
    assert (T, 8, 12, "SMS208", "Tencent marketing content must end with 拒收请回复R (the opt-out notice)", E) in found
    assert (T, 11, 17, "SMS213", "variable 'url' is a link; Tencent does not allow link variables", E) in found
    assert (T, 11, 10, "SMS211", "variable 'url' may be 27 characters; Tencent personal accounts allow at most 12 "
            "per value", W) in found  # fmt: skip
    assert (T, 12, 11, "SMS210", "code variable 'code' may be 8 characters; Tencent allows at most 6", E) in found
    intl = VERIFY.replace("Your code is", "Your PIN is") + "international: true\n"
    assert only(tmp_path, {T: template(intl)}, "SMS207") == [
        (T, 7, 12, "Tencent requires international verification content to contain the word 'code'", E)
    ]


def test_tencent_whole_message_length(tmp_path: Path) -> None:
    extra = "maxLength: 6}\n  n: {type: text, example: 'abcdef', maxLength: 12"
    spec = VERIFY.replace("Your code", "中" * 470 + " code").replace("maxLength: 6", extra)
    spec = spec.replace("{{ code }}.", "{{ code }} {{ n }}.")
    channel = TENCENT.replace("  signature:", "  maxSegments: 10\n  signature:")
    assert only(tmp_path, {"channels/t.yaml": channel, T: template(spec)}, "SMS209") == [
        (T, 7, 12, "the message is 507 characters with the signature 【OnePro】 and each variable at its maxLength "
         "(else its example); Tencent allows at most 500", E)
    ]  # fmt: skip


def test_aws_rules(tmp_path: Path) -> None:
    spec = (
        VERIFY.replace("maxLength: 6}", 'maxLength: 6}\n  n: {type: text, example: "ab", maxLength: 500}').replace(
            "{{ code }}.", "{{ code }}. " + "{{ n }} x " * 4
        )
        + "international: true\n"
    )
    found = lint(tmp_path, {"channels/a.yaml": AWS, T: template(spec)})
    assert (T, 7, 12, "SMS209", "the message is 2033 characters with each variable at its maxLength (else its "
            "example); AWS allows at most 1600", E) in found  # fmt: skip
    assert (
        T,
        12,
        18,
        "SMS215",
        "international has no effect on AWS: the destination number decides the country",
        W,
    ) in found
    assert (T, 7, 12, "SMS214", "the message is 2033 characters (GSM-7) with each variable at its maxLength (else "
            "its example): 14 segments, but channel 'aws-us' allows maxSegments 2", W) in found  # fmt: skip


def test_segments_count_the_signature(tmp_path: Path) -> None:
    # 60 GSM characters + 【OnePro】 = 68 UCS-2 units: one segment; 63 + 8 = 71: two; budget 1.
    channel = SANDBOX + "  maxSegments: 1\n"
    fits = VERIFY.replace("Your code is {{ code }}.", "a" * 54 + "{{ code }}")
    assert only(tmp_path, {"channels/c.yaml": channel, T: template(fits)}, "SMS214") == []
    over = VERIFY.replace("Your code is {{ code }}.", "a" * 57 + "{{ code }}")
    assert only(tmp_path, {T: template(over)}, "SMS214") == [
        (T, 7, 12, "the message with the signature 【OnePro】 is 71 characters (UCS-2) with each variable at its "
         "maxLength (else its example): 2 segments, but channel 'sandbox' allows maxSegments 1", W)
    ]  # fmt: skip


def test_references(tmp_path: Path) -> None:
    channel = SANDBOX + (
        "  testSend:\n    recipients: {sops: ../secrets/s.enc.yaml, key: test_recipients}\n"
        "    templates: [t1, t2, t3]\n"
    )
    other = SANDBOX.replace("name: sandbox", "name: idle")
    files = {
        "channels/c.yaml": channel,
        "channels/idle.yaml": other,
        T: template(VERIFY + "channels: [sandbox, prod]\n"),
        "templates/t2.yaml": template(VERIFY + "channels: [idle]\n", name="t2"),
    }
    found = lint(tmp_path, files)
    assert (T, 11, 23, "SMS301", "unknown channel 'prod' (channels: idle, sandbox)", E) in found
    assert ("channels/c.yaml", 11, 21, "SMS304", "testSend.templates names 't2', but that template does not go to "
            "this channel", E) in found  # fmt: skip
    assert (
        "channels/c.yaml",
        11,
        25,
        "SMS304",
        "testSend.templates names 't3', but no template of that name exists",
        E,
    ) in found
    idle_off = other + "  enabled: false\n"
    found = lint(tmp_path, {"channels/idle.yaml": idle_off, "templates/t2.yaml": template(VERIFY, name="t2")})
    assert [entry for entry in found if entry[3] == "SMS303"] == []
    found = lint(tmp_path, {"channels/idle.yaml": other, T: template(VERIFY + "channels: [sandbox]\n"),
                            "templates/t2.yaml": template(VERIFY + "channels: [sandbox]\n", name="t2")})  # fmt: skip
    assert ("channels/idle.yaml", 4, 9, "SMS303", "channel 'idle' is enabled but has no templates", W) in found


def test_plaintext_secrets_are_named_by_shape_never_echoed(tmp_path: Path) -> None:
    notes = (
        "apiVersion: smsops/v1\nkind: Notes\nid: LTAI5tQm8XyZr2KpWv9bN3cD\nsecretKey: s3cr3t\n"
        "phones: ['+8613812345678', 'call 13912345678 now']\napi_token: ''\nenabled_password: true\n"
    )
    found = lint(tmp_path, {"channels/c.yaml": SANDBOX, T: template(VERIFY), "notes.yaml": notes}, load_errors=True)
    secrets = [entry for entry in found if entry[3].startswith("SMS4")]
    assert secrets == [
        ("notes.yaml", 3, 5, "SMS402", "id holds a value shaped like an Alibaba AccessKey ID", E),
        ("notes.yaml", 4, 12, "SMS401", "secretKey holds a literal value; credentials must not be in plain YAML", E),
        ("notes.yaml", 5, 10, "SMS403", "phones.0 contains the phone number +86 138****5678", E),
        ("notes.yaml", 5, 28, "SMS403", "phones.1 contains the phone number 139****5678", E),
    ]


def test_secrets_in_comments_are_found_at_their_line_and_never_echoed(tmp_path: Path) -> None:
    """A key or a number "kept for reference" in a comment is in git like one in a value; a '#'
    inside a value (quoted, or in a block of content) is the value's, read by the value rules."""
    key, secret = "LTAI5tAbCdEfGhIjKlMn", "Zx9yWv8uT7sR6qP5oN4mL3kJ"
    channel = SANDBOX.replace("spec:\n", f"spec:  # old key for reference: {key} secret {secret}\n")
    notes = (
        "# on-call: +8613912345678\n"
        "apiVersion: smsops/v1\nkind: Notes\n"
        "title: 'Ops # +8613812345678'\n"
        "body: |\n  # not a comment: 13912345678\n"
        "tags: [a, b]  # password: hunter2, too short to look random\n"
    )
    found = lint(tmp_path, {"channels/c.yaml": channel, T: template(VERIFY), "notes.yaml": notes}, load_errors=True)
    assert [entry for entry in found if entry[3].startswith("SMS4")] == [
        ("channels/c.yaml", 5, 33, "SMS402", "a comment holds a value shaped like an Alibaba AccessKey ID", E),
        ("channels/c.yaml", 5, 61, "SMS401", "a comment holds a value that looks like a credential", E),
        ("notes.yaml", 1, 12, "SMS403", "a comment contains the phone number +86 139****5678", E),
        ("notes.yaml", 4, 8, "SMS403", "title contains the phone number +86 138****5678", E),
        ("notes.yaml", 5, 7, "SMS403", "body contains the phone number 139****5678", E),
    ]
    assert not [entry for entry in found if key in entry[4] or secret in entry[4] or "12345678" in entry[4]]


def test_sops_references(tmp_path: Path) -> None:
    channel = TENCENT.replace("sops: ../secrets/s.enc.yaml", "sops: ../secrets/s.enc.yaml\n    accessKeyId: key_id")
    channel += "  testSend:\n    recipients: {sops: ../secrets/none.enc.yaml, key: test_recipients}\n"
    found = only(tmp_path, {"channels/t.yaml": channel, T: template(VERIFY)}, "SMS406") + only(tmp_path, {}, "SMS404")
    assert found == [
        ("channels/t.yaml", 9, 18, "../secrets/s.enc.yaml has no key 'key_id' (keys: access_key_id, "
         "access_key_secret, test_recipients)", E),
        ("channels/t.yaml", 14, 24, "../secrets/none.enc.yaml: file not found", E),
    ]  # fmt: skip
    # A key "name" that looks like a credential pasted in by mistake is not echoed (SMS401 flags it).
    pasted = channel.replace("accessKeyId: key_id", "accessKeyId: Zq8Ld2Wm5Tx0Rb7Nk3Hy")
    assert only(tmp_path, {"channels/t.yaml": pasted, T: template(VERIFY)}, "SMS406") == [
        ("channels/t.yaml", 9, 18, "../secrets/s.enc.yaml has no key of the name given in credentials.accessKeyId "
         "(keys: access_key_id, access_key_secret, test_recipients)", E),
    ]  # fmt: skip
    # JSON, so the loader does not read it as config: a fake sops block there is an SMS007 of its own.
    (tmp_path / "secrets" / "plain.enc.json").write_text('{"sops": {"mac": "abc"}, "access_key_id": "x"}')
    plain = TENCENT.replace("s.enc.yaml", "plain.enc.json")
    assert only(tmp_path, {"channels/t.yaml": plain}, "SMS405") == [
        (
            "channels/t.yaml",
            8,
            11,
            "../secrets/plain.enc.json: is not SOPS-encrypted (sops.mac is not an encrypted MAC (ENC[AES256_GCM,…]))",
            E,
        )
    ]


@pytest.mark.parametrize("rule", sorted(RULES))
def test_every_rule_is_exercised_by_a_test_or_the_corpus(rule: str) -> None:
    corpus = "".join(path.read_text() for path in CORPUS.glob("*/expect.txt"))
    here = Path(__file__).read_text()
    content_tests = (Path(__file__).parents[1] / "content" / "test_content.py").read_text()
    assert f'"{rule}"' in here + content_tests or f"{rule} " in corpus


PROOF = Path(__file__).parents[2] / "sms-config" / "signatures" / "sandbox" / "onepro-proof.png.enc"  # real sops
SIGNATURE = """\
apiVersion: smsops/v1
kind: Signature
metadata:
  name: onepro
spec:
  name: OnePro
  tencent:
    type: company
    documentType: 0
    proofImage: {sops: proof.png.enc}
  aws:
    senderIds:
      - country: GB
"""


def managed(channel: str, name: str = "onepro") -> str:
    return channel.replace("    name: OnePro\n", f"    name: OnePro\n    managed: {name}\n").replace(
        "    name: Acme\n", f"    name: Acme\n    managed: {name}\n"
    )


def signature_lint(
    tmp_path: Path, files: dict[str, str], rule: str, *, images: tuple[str, ...] = ("plain.png",)
) -> list[tuple[str, int, int, str, Severity]]:
    """Lint ``files`` in a fresh directory below ``tmp_path`` (with the encrypted proof image and
    the plaintext ``images`` under signatures/)."""
    root = tmp_path / f"case{len(list(tmp_path.iterdir()))}"
    (root / "signatures").mkdir(parents=True)
    shutil.copy(PROOF, root / "signatures" / "proof.png.enc")
    for image in images:
        (root / "signatures" / image).write_bytes(b"\x89PNG not encrypted")
    found = lint(root, {T: template(VERIFY), **files})
    return [(f, line, col, msg, sev) for f, line, col, r, msg, sev in found if r.startswith(rule)]


def test_signature_references_are_checked_at_the_channel(tmp_path: Path) -> None:
    files = {"channels/t.yaml": managed(TENCENT, "missing"), "signatures/s.yaml": SIGNATURE}
    assert signature_lint(tmp_path, files, "SMS305") == [
        ("channels/t.yaml", 11, 14, "no Signature document named 'missing' (signatures: onepro)", E)
    ]
    assert signature_lint(tmp_path, files, "SMS309") == [
        ("signatures/s.yaml", 4, 9, "Signature 'onepro' is named by no channel", W)
    ]
    renamed = {
        "channels/t.yaml": managed(TENCENT),
        "signatures/s.yaml": SIGNATURE.replace("name: OnePro", "name: Other"),
    }
    assert signature_lint(tmp_path, renamed, "SMS306") == [
        ("channels/t.yaml", 10, 11, "signature.name is 'OnePro' but Signature 'onepro' registers 'Other'", E)
    ]
    sandbox = {"channels/s.yaml": managed(SANDBOX), "signatures/s.yaml": SIGNATURE}
    assert signature_lint(tmp_path, sandbox, "SMS307") == [
        ("channels/s.yaml", 9, 14, "Signature 'onepro' has no alibaba settings for this sandbox channel", E)
    ]
    aws = {"channels/a.yaml": managed(AWS), "signatures/s.yaml": SIGNATURE.replace("name: OnePro", "name: Acme")}
    assert signature_lint(tmp_path, aws, "SMS308") == [
        ("channels/a.yaml", 12, 14, "Signature 'onepro' requests no sender ID for US (countries: GB)", E)
    ]
    clean = {"channels/t.yaml": managed(TENCENT), "signatures/s.yaml": SIGNATURE}
    assert signature_lint(tmp_path, clean, "SMS30") == signature_lint(tmp_path, clean, "SMS409") == []


def test_signature_files_must_be_sops_encrypted_binary_files(tmp_path: Path) -> None:
    files = {"channels/t.yaml": managed(TENCENT), "signatures/s.yaml": SIGNATURE}
    assert signature_lint(tmp_path, files, "SMS409") == []
    plain = SIGNATURE.replace("proof.png.enc", "plain.png")
    assert signature_lint(tmp_path, {**files, "signatures/s.yaml": plain}, "SMS409") == [
        ("signatures/s.yaml", 10, 24, "plain.png: is not SOPS-encrypted (encrypt it: sops encrypt FILE > FILE.enc)", E)
    ]
    gone = SIGNATURE.replace("proof.png.enc", "gone.png.enc")
    assert signature_lint(tmp_path, {**files, "signatures/s.yaml": gone}, "SMS409") == [
        ("signatures/s.yaml", 10, 24, "gone.png.enc: file not found", E)
    ]
    # The image the .enc file was made from, left beside it, is one `git add -A` from being committed.
    assert signature_lint(tmp_path, files, "SMS410") == []
    assert signature_lint(tmp_path, files, "SMS410", images=("proof.png",)) == [
        ("signatures/s.yaml", 10, 24, "proof.png, which proof.png.enc was made from, is here in plaintext", W)
    ]
    away = SIGNATURE.replace("proof.png.enc", "../../elsewhere/proof.png.enc")
    assert signature_lint(tmp_path, {**files, "signatures/s.yaml": away}, "SMS407") == [
        ("signatures/s.yaml", 10, 24, "../../elsewhere/proof.png.enc is outside the config directory", E)
    ]


@pytest.mark.parametrize(
    ("make", "what"),
    [(os.mkfifo, "not a regular file (a named pipe)"), (os.mkdir, "not a regular file (it is a directory)")],
)
def test_a_signature_file_that_is_not_a_regular_file_says_what_it_is(
    tmp_path: Path, make: Callable[[Path], None], what: str
) -> None:
    """Not "file not found": the file is there, and is not one. A FIFO is never opened (reading it
    would wait for a writer forever)."""
    (tmp_path / "signatures").mkdir()
    make(tmp_path / "signatures" / "odd.png.enc")
    signature = SIGNATURE.replace("proof.png.enc", "odd.png.enc")
    files = {"channels/t.yaml": managed(TENCENT), "signatures/s.yaml": signature}
    assert [(f, line, col, msg) for f, line, col, rule, msg, _ in lint(tmp_path, files) if rule == "SMS409"] == [
        ("signatures/s.yaml", 10, 24, f"odd.png.enc: {what}")
    ]


def test_paths_outside_the_config_directory_need_allow_outside(tmp_path: Path) -> None:
    config = tmp_path / "cfg"
    outside = tmp_path / "elsewhere.enc.yaml"
    shutil.copy(ENCRYPTED, outside)
    (config / "secrets").mkdir(parents=True)
    os.symlink(outside, config / "secrets" / "link.enc.yaml")  # a link out of the tree is outside too
    published = "  publish:\n    file: /tmp/published.json\n"
    channel = TENCENT.replace("../secrets/s.enc.yaml", "../secrets/link.enc.yaml") + published
    assert only(config, {"channels/t.yaml": channel}, "SMS407") == [
        ("channels/t.yaml", 8, 11, "../secrets/link.enc.yaml is outside the config directory", E),
        ("channels/t.yaml", 13, 11, "/tmp/published.json is outside the config directory", E),
    ]
    allowed = channel + "  allowOutside: true\n"
    assert [sev for *_, sev in only(config, {"channels/t.yaml": allowed}, "SMS407")] == [W, W]


@pytest.mark.parametrize(
    ("target", "message"),
    [("..", "../ is a directory"), ("/proc/self/mem", "/proc/self/mem is a kernel interface, not a file")],
)
def test_publish_file_must_be_a_regular_file(tmp_path: Path, target: str, message: str) -> None:
    written = target + "/" if target == ".." else target
    channel = TENCENT + f"  allowOutside: true\n  publish:\n    file: {written}\n"
    assert only(tmp_path, {"channels/t.yaml": channel}, "SMS408") == [("channels/t.yaml", 14, 11, message, E)]
