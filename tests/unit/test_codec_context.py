"""The data converter given a serialization context: stamped codec, shared converters."""

from __future__ import annotations

from pydantic import SecretStr
from temporalio.api.common.v1 import Payload
from temporalio.converter import ActivitySerializationContext, WorkflowSerializationContext

from crossdock.codec import WORKFLOW_ID, EncryptionCodec, StampingDataConverter, data_converter
from crossdock.config import Settings
from crossdock.keys import new_codec_key

SETTINGS = Settings(codec_keys=SecretStr(new_codec_key("k1")), _env_file=None)


def context(workflow_id: str) -> WorkflowSerializationContext:
    return WorkflowSerializationContext(namespace="default", workflow_id=workflow_id)


async def test_a_context_stamps_the_codec_and_shares_the_payload_converter() -> None:
    converter = data_converter(SETTINGS)
    assert isinstance(converter, StampingDataConverter)
    stamped = converter.with_context(context("order-storefront-SF1"))
    assert stamped is not converter
    assert stamped.payload_converter is converter.payload_converter
    assert stamped.failure_converter is converter.failure_converter
    [payload] = await stamped.encode(["hello"])
    assert payload.metadata[WORKFLOW_ID] == b"order-storefront-SF1"
    assert await converter.decode([payload]) == ["hello"]
    assert isinstance(converter.payload_codec, EncryptionCodec)
    [unstamped] = await converter.encode(["hello"])
    assert WORKFLOW_ID not in unstamped.metadata, "the original is left as it was"


async def test_an_activity_context_stamps_its_workflow() -> None:
    converter = data_converter(SETTINGS)
    activity = ActivitySerializationContext(
        namespace="default",
        workflow_id="order-amazon-1",
        workflow_type="OrderWorkflow",
        activity_type="buy_label",
        activity_id="1",
        activity_task_queue="q",
        is_local=False,
    )
    [payload] = await converter.with_context(activity).encode([{"a": 1}])
    assert isinstance(payload, Payload)
    assert payload.metadata[WORKFLOW_ID] == b"order-amazon-1"


def test_the_same_workflow_again_reuses_the_stamped_converter() -> None:
    stamped = data_converter(SETTINGS).with_context(context("order-ebay-1"))
    assert stamped.with_context(context("order-ebay-1")) is stamped
