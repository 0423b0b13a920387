"""The SSM and S3 targets share one boto3 client per service, region, endpoint and AWS environment
(moto's server on loopback)."""

from __future__ import annotations

import pytest

from reconciler.providers.aws.s3 import S3Store
from reconciler.providers.aws.ssm import SsmStore
from reconciler.publish.targets.base import TargetUnreachable


def test_stores_of_one_target_share_a_client_and_a_changed_environment_gets_a_new_one(
    moto: str, closed_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = SsmStore("/smsops/a", region="eu-west-1"), SsmStore("/smsops/b", region="eu-west-1")
    assert first.read("config") is None and second.read("config") is None
    assert first._client.get() is second._client.get()
    assert SsmStore("/smsops/a", region="us-east-1")._client.get() is not first._client.get()
    s3 = S3Store("bucket", "smsops", "prod", region="eu-west-1", endpoint=moto)
    assert s3._client.get() is not first._client.get()
    assert S3Store("other", "", "prod", region="eu-west-1", endpoint=moto)._client.get() is s3._client.get()

    # What boto3 read from the environment when the client was made (here the SSM endpoint) is
    # not kept past a change of it: the new store reaches the new endpoint.
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", closed_endpoint)
    moved = SsmStore("/smsops/a", region="eu-west-1")
    assert moved._client.get() is not first._client.get()
    with pytest.raises(TargetUnreachable, match="cannot reach the publish target ssm:/smsops/a"):
        moved.read("config")
