"""Write a synthetic config: N templates spread over M channels (default 5,000 over 5).

    python benchmarks/generate.py OUT_DIR [--templates N] [--channels M] [--per-file K]

Templates are written K per file (multi-document), the way a large team groups them by product.
The content is realistic in length and variable count so lint rules do their normal work.
"""

from __future__ import annotations

import argparse
from pathlib import Path

CHANNEL = """\
apiVersion: smsops/v1
kind: Channel
metadata:
  name: {name}
  labels: {{env: bench}}
spec:
  provider: alibaba
  region: cn-hangzhou
  credentials: {{sops: ../secrets/{name}.enc.yaml}}
  signature: {{name: OnePro}}
  maxSegments: 3
  testSend:
    recipients: {{sops: ../secrets/{name}.enc.yaml, key: test_recipients}}
    deliveryTimeout: 2m
  rollout: {{prune: false, gracePeriod: 24h}}
"""

TEMPLATE = """\
apiVersion: smsops/v1
kind: Template
metadata:
  name: {name}
  labels: {{team: team-{team}}}
spec:
  type: {kind}
  content: >-
    Order {{{{ order }}}} for {{{{ customer }}}} is {{{{ status }}}}.
    Code {{{{ code }}}}, valid {{{{ minutes }}}} min.
  variables:
    order: {{type: text, example: "A{index:07d}", maxLength: 10}}
    customer: {{type: name, example: "Li Wei", maxLength: 12}}
    status: {{type: text, example: "ready", maxLength: 10}}
    code: {{type: code, example: "482913", maxLength: 6}}
    minutes: {{type: number, example: "5", maxLength: 2}}
  remark: Synthetic template {index} used to measure validate on a large configuration.
  channels: [{channel}]
"""

# Shaped like a SOPS file (lint reads key names and ENC[ markers, never decrypts): validate needs no key.
SECRETS = """\
access_key_id: ENC[AES256_GCM,data:Yjh1X11Gwf4o,iv:W8IvVDrh7n7=,tag:yTjNDjZR4wVQ==,type:str]
access_key_secret: ENC[AES256_GCM,data:I6OmMIRcaMDl,iv:Py5S66fY4lOS=,tag:yHj8NngMmhwW==,type:str]
test_recipients:
    - ENC[AES256_GCM,data:VF9+uAxwkCWi,iv:OcYvm+0hbotO=,tag:oAqYPgj7MIl1==,type:str]
sops:
    age:
        - recipient: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p
          enc: |
            -----BEGIN AGE ENCRYPTED FILE-----
            YWdlLWVuY3J5cHRpb24ub3JnL3YxCg==
            -----END AGE ENCRYPTED FILE-----
    lastmodified: "2026-01-01T00:00:00Z"
    mac: ENC[AES256_GCM,data:QiWHr4J4OwhG,iv:Jly2AggcSYw9=,tag:CCTbgkNanUvF==,type:str]
    version: 3.9.4
"""


def generate(out: Path, *, templates: int = 5000, channels: int = 5, per_file: int = 50) -> None:
    (out / "channels").mkdir(parents=True, exist_ok=True)
    (out / "templates").mkdir(parents=True, exist_ok=True)
    (out / "secrets").mkdir(parents=True, exist_ok=True)
    names = [f"channel-{number}" for number in range(channels)]
    for name in names:
        (out / "channels" / f"{name}.yaml").write_text(CHANNEL.format(name=name), encoding="utf-8")
        (out / "secrets" / f"{name}.enc.yaml").write_text(SECRETS, encoding="utf-8")
    for start in range(0, templates, per_file):
        documents = [
            TEMPLATE.format(
                name=f"template-{index:05d}",
                team=index % 17,
                # verification templates carry exactly one code variable; the rest are notifications
                kind="verification" if index % 3 == 0 else "notification",
                index=index,
                channel=names[index % channels],
            )
            for index in range(start, min(start + per_file, templates))
        ]
        (out / "templates" / f"batch-{start // per_file:04d}.yaml").write_text(
            "---\n".join(documents), encoding="utf-8"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--templates", type=int, default=5000)
    parser.add_argument("--channels", type=int, default=5)
    parser.add_argument("--per-file", type=int, default=50)
    args = parser.parse_args()
    generate(args.out, templates=args.templates, channels=args.channels, per_file=args.per_file)
    print(f"wrote {args.templates} templates across {args.channels} channels to {args.out}")


if __name__ == "__main__":
    main()
