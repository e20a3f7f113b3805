"""Plumbing shared by the typed Confluent constructs: blocks, the provider and the resource base classes.

No prebuilt CDKTF binding exists for ``confluentinc/confluent`` (``cdktf get`` needs the registry), so
each resource type is a small class over cdktf's ``TerraformResource``/``TerraformDataSource`` that
synthesizes its keyword arguments verbatim: the argument names are the provider's attribute names.
Nested blocks are frozen dataclasses; they synthesize as a one-element list of objects, the Terraform
JSON form of a ``nesting: list`` block. ``schema.py`` checks the result against the provider schema.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, TypedDict

import jsii
from cdktf import (
    ITerraformDependable,
    TerraformDataSource,
    TerraformProvider,
    TerraformProviderGeneratorMetadata,
    TerraformResource,
    TerraformResourceLifecycle,
)
from constructs import Construct

from terraform.confluent_provider.schema import provider_version

PROVIDER_SOURCE = "confluentinc/confluent"


@dataclasses.dataclass(frozen=True)
class Block:
    """A nested block; ``None`` fields are left out, nested blocks are converted recursively."""

    def body(self) -> dict[str, Any]:
        return {
            field.name: to_terraform(getattr(self, field.name))
            for field in dataclasses.fields(self)
            if getattr(self, field.name) is not None
        }


def to_terraform(value: Any) -> Any:
    """Python value -> Terraform JSON value (blocks become ``[{...}]``, ``None`` entries disappear)."""
    if isinstance(value, Block):
        return [value.body()]
    if isinstance(value, Mapping):
        return {key: to_terraform(item) for key, item in value.items() if item is not None}
    if isinstance(value, (list, tuple)):
        return [to_terraform(item) for item in value]
    return value


class Meta(TypedDict, total=False):
    """Terraform meta-arguments every construct accepts."""

    depends_on: Sequence[ITerraformDependable]
    lifecycle: TerraformResourceLifecycle
    provider: TerraformProvider


def meta(
    *,
    depends_on: Sequence[ITerraformDependable] | None = None,
    lifecycle: TerraformResourceLifecycle | None = None,
) -> Meta:
    """Meta-arguments with only what is set (an empty ``depends_on`` is left out)."""
    arguments: Meta = {}
    if depends_on:
        arguments["depends_on"] = list(depends_on)
    if lifecycle is not None:
        arguments["lifecycle"] = lifecycle
    return arguments


def _metadata() -> TerraformProviderGeneratorMetadata:
    return TerraformProviderGeneratorMetadata(
        provider_name="confluent", provider_version_constraint=provider_version()
    )


class ConfluentProvider(TerraformProvider):
    """The ``confluent`` provider block; arguments named like the provider's (see schema ``provider``).

    Credentials that are not given here come from the provider's environment variables
    (``CONFLUENT_CLOUD_API_KEY``/``CONFLUENT_CLOUD_API_SECRET``), so no secret is ever synthesized.
    """

    def __init__(self, scope: Construct, id_: str, **arguments: Any) -> None:
        super().__init__(
            scope,
            id_,
            terraform_resource_type="confluent",
            terraform_generator_metadata=_metadata(),
            terraform_provider_source=PROVIDER_SOURCE,
        )
        self._arguments = to_terraform(arguments)

    @jsii.member(jsii_name="synthesizeAttributes")
    def _synthesize_attributes(self) -> Mapping[str, Any]:
        return self._arguments


class _ConfluentBlockMixin:
    """What ``confluent_*`` resources and data sources share: they synthesize the keyword arguments given."""

    resource_type: ClassVar[str]

    def __init__(self, scope: Construct, id_: str, *, meta: Meta | None = None, **arguments: Any) -> None:
        super().__init__(  # type: ignore[call-arg]  # TerraformResource or TerraformDataSource, by MRO
            scope,
            id_,
            terraform_resource_type=self.resource_type,
            terraform_generator_metadata=_metadata(),
            **(meta or {}),
        )
        self._arguments = to_terraform(arguments)

    @jsii.member(jsii_name="synthesizeAttributes")
    def _synthesize_attributes(self) -> Mapping[str, Any]:
        return self._arguments

    def attribute(self, name: str) -> str:
        """A Terraform reference to one of this block's (computed) attributes."""
        return self.get_string_attribute(name)  # type: ignore[attr-defined]

    @property
    def id(self) -> str:
        return self.attribute("id")


class ConfluentResource(_ConfluentBlockMixin, TerraformResource):
    """Base of every ``confluent_*`` resource."""


class ConfluentDataSource(_ConfluentBlockMixin, TerraformDataSource):
    """Base of every ``confluent_*`` data source."""
