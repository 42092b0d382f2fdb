"""Run by Debian's /usr/bin/python3 with python3-qgis (not the venv), headless (QT_QPA_PLATFORM=offscreen): open a
QGIS project in real QGIS and print, as JSON, what a person opening it would find: QGIS's version, every layer (valid,
provider, geometry type, feature count, source), the layer tree's drawing order (top first), the label settings of
every labelled layer (font family as QGIS resolved it, the data-defined family), and every message QGIS and GDAL
logged while opening it (a GeoPackage version warning would be among them).

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 tests/qgis_probe.py PROJECT.qgz
"""
import json
import sys


def main(path: str) -> dict:
    from qgis.core import Qgis, QgsApplication, QgsExpressionContextUtils, QgsPalLayerSettings, QgsProject, QgsWkbTypes

    app = QgsApplication([], False)
    app.initQgis()
    messages = []
    QgsApplication.messageLog().messageReceived.connect(
        lambda message, tag, level: messages.append({"tag": tag, "level": int(level), "message": message}))
    project = QgsProject.instance()
    read = project.read(path)
    layers = []
    for layer in project.mapLayers().values():
        entry = {"name": layer.name(), "id": layer.id(), "valid": layer.isValid(), "provider": layer.providerType(),
                 "source": layer.source()}
        if layer.type() == layer.VectorLayer:
            entry.update(geometry=QgsWkbTypes.displayString(layer.wkbType()), features=layer.featureCount(),
                         labels=layer.labelsEnabled())
            if layer.labelsEnabled() and layer.labeling() is not None:
                settings = layer.labeling().settings()
                family = settings.dataDefinedProperties().property(QgsPalLayerSettings.Family)
                entry["label"] = {"field": settings.fieldName, "family": settings.format().font().family(),
                                  "font_found": settings.format().fontFound(),
                                  "dd_family_active": family.isActive(), "dd_family": family.expressionString(),
                                  "dd_family_here": family.valueAsString(
                                      QgsExpressionContextUtils.globalScope() and _context())[0]}
        layers.append(entry)
    order = [layer.id() for layer in project.layerTreeRoot().layerOrder()]
    out = {"qgis": Qgis.QGIS_VERSION, "read": read, "layers": layers, "order": order, "messages": messages}
    app.exitQgis()
    return out


def _context():
    from qgis.core import QgsExpressionContext, QgsExpressionContextUtils

    context = QgsExpressionContext()
    context.appendScope(QgsExpressionContextUtils.globalScope())
    return context


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1]), ensure_ascii=False))
