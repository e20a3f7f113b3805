"""Terraform addresses do not follow the construct tree: regrouping code never moves state."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.slow


def _topic(scope: Any, id_: str) -> Any:
    from terraform.aws.notifications import EmailTopic

    return EmailTopic(
        scope,
        id_,
        name=id_,
        display_name=id_,
        kms_key_arn="arn:aws:kms:eu-central-1:111122223333:key/example",
        subscriber=f"{id_}_reader",
        addresses=["a@example.com"],
    )


def test_a_resource_deep_in_constructs_keeps_its_own_id_as_address_and_path() -> None:
    from terraform.testing import nested_construct, synth_flat_stack

    document = synth_flat_stack(
        lambda stack: _topic(nested_construct(nested_construct(stack, "a"), "b"), "news")
    )
    topic = document["resource"]["aws_sns_topic"]["news"]
    assert topic["//"]["metadata"]["path"] == "under-test/news"
    assert document["resource"]["aws_sns_topic_subscription"]["news_reader_0"]["topic_arn"] == (
        "${aws_sns_topic.news.arn}"
    )


def test_two_resources_with_one_id_in_different_constructs_are_refused() -> None:
    from terraform.testing import nested_construct, synth_flat_stack

    def build(stack: Any) -> None:
        _topic(nested_construct(stack, "left"), "news")
        _topic(nested_construct(stack, "right"), "news")

    with pytest.raises(Exception, match="would both be 'news'"):
        synth_flat_stack(build)
