"""The API's request and answer models, one module per area: the OpenAPI document is generated from them
(http/openapi.py turns each into a component), and the vocabularies in them are vocab.py's enums, so the document's
enums follow the registry's."""
