"""OGC API - Features: the landing page, conformance, collections and the JSON schemas of a collection (open, as the
standard's own schemas are)."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from .common import COMMON, Link


class LandingPage(BaseModel):
    title: str = None
    description: str = None
    links: list[Link]


class Conformance(BaseModel):
    conformsTo: list[str]


class Collection(BaseModel):
    id: str
    title: str = None
    description: str = None
    itemType: str = None
    crs: list[str] = None
    storageCrs: str = None
    extent: dict[str, Any] = None
    links: list[Link]


class Collections(BaseModel):
    links: list[Link]
    collections: list[Collection]
    crs: list[str] = None


class JSONSchema(BaseModel):
    type: str = None
    properties: dict[str, Any] = None


class OpenAPIDocument(BaseModel):
    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]
    components: dict[str, Any]


MODELS = [*COMMON, LandingPage, Conformance, Collection, Collections, JSONSchema]
