"""Downloads: the catalogue of layers, formats and CRSs."""
from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field, create_model

from ... import downloads
from ...http.openapi import Answer
from .common import ONE_OF, Link


class _Layer(Answer):
    id: Literal[tuple(sorted(downloads.LAYERS))]
    title: str
    title_zh: str
    staff_only: bool
    geometry: str | None
    formats: list[str]
    links: list[Link]


class FeatureLayer(_Layer):
    fields: list[str]
    shapefile_fields: Annotated[dict[str, str], Field(
        description="field: its name in a Shapefile (10 characters at most)")]
    filters: list[str]


class RegistryLayer(_Layer):
    content: Annotated[str, Field(description="what the whole registry holds")]


class DownloadFormat(Answer):
    extension: str
    title: str
    media_type: str
    default_crs: str
    crs: str
    note: str


class DownloadCrs(Answer):
    uri: str
    epsg: int | None
    label: str


DownloadParameters = create_model("DownloadParameters", __base__=Answer,
                                  **{k: (str, Field(alias=k)) for k in ("bbox", "bbox-crs", "crs", "filters")})


class DownloadCatalogue(Answer):
    """what can be downloaded (layers: a layer of features, or the whole registry)"""
    audience: Literal["public", "staff"]
    notice: str
    layers: list[Annotated[Union[FeatureLayer, RegistryLayer], ONE_OF]]
    formats: list[DownloadFormat]
    crs: list[DownloadCrs]
    parameters: DownloadParameters


MODELS = [DownloadCatalogue]
