"""Manual check: open a field kit's QGIS project headless with PyQGIS and report what QGIS sees.

Not part of the test suite (QGIS is too heavy for CI). Run it with Debian's Python, which has PyQGIS
(``apt-get install --no-install-recommends python3-qgis qgis-providers``), on a kit folder (unzipped)::

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 tools/qgis_open_kit.py /path/to/fieldkit-xxxxxxxx [--edit]

It prints every layer (valid?, provider, source, CRS, feature count, renderer, the form widget of each field and which
fields are read-only) and exits 1 if any layer is invalid or a layer's source is not relative. With ``--edit`` it also
moves the first site 10 m east, adds a new find and saves through QGIS's own editing code (the OGR provider, as QField
does), so the folder can be checked in to see how the registry reads a file QGIS wrote.
"""
from __future__ import annotations

import sys
from pathlib import Path


def main(folder: str, edit: bool) -> int:
    from qgis.core import (QgsApplication, QgsFeature, QgsGeometry, QgsPointXY, QgsProject, QgsVectorLayer)

    app = QgsApplication([], False)
    app.initQgis()
    project = QgsProject.instance()
    path = Path(folder) / "fieldkit.qgz"
    if not project.read(str(path)):
        print(f"QGIS could not read {path}: {project.error()}")
        return 1
    print(f"project: {project.title()} crs={project.crs().authid()} absolute_paths={project.filePathStorage()}")
    bad = 0
    for layer in project.mapLayers().values():
        source = layer.source()
        relative = project.writePath(source)
        print(f"- {layer.name()}: valid={layer.isValid()} provider={layer.providerType()} crs={layer.crs().authid()} "
              f"stored_as={relative}")
        if not layer.isValid() or not relative.startswith("./"):
            bad += 1
        if isinstance(layer, QgsVectorLayer):
            print(f"  features={layer.featureCount()} renderer={layer.renderer().type()} "
                  f"labels={layer.labelsEnabled()}")
            for index, field in enumerate(layer.fields()):
                setup = layer.editorWidgetSetup(index)
                readonly = layer.editFormConfig().readOnly(index)
                config = setup.config()
                extra = ""
                if setup.type() == "ValueMap":
                    extra = " values=" + ",".join(str(list(m.values())[0]) for m in config.get("map", []))
                elif setup.type() == "ExternalResource":
                    extra = f" relative_storage={config.get('RelativeStorage')} viewer={config.get('DocumentViewer')}"
                elif setup.type() == "ValueRelation":
                    extra = f" layer={config.get('Layer')} key={config.get('Key')}"
                print(f"    {field.name()}: {setup.type()}{' read-only' if readonly else ''}"
                      f" alias={layer.attributeAlias(index)!r}{extra}")
    if edit:
        sites = project.mapLayersByName("化石点 Fossil sites")[0]
        finds = project.mapLayersByName("新发现 New finds")[0]
        sites.startEditing()
        feature = next(sites.getFeatures())
        point = feature.geometry().asPoint()
        sites.changeGeometry(feature.id(), QgsGeometry.fromPointXY(QgsPointXY(point.x() + 0.0001, point.y())))
        sites.changeAttributeValue(feature.id(), sites.fields().indexOf("note"), "moved by the QGIS check")
        print(f"  edited {feature['code']}: commit={sites.commitChanges()}")
        finds.startEditing()
        find = QgsFeature(finds.fields())
        find.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(point.x() + 0.002, point.y() + 0.002)))
        find["name"] = "QGIS check find"
        find["find_id"] = "qgis-check-1"
        finds.addFeature(find)
        print(f"  added a new find: commit={finds.commitChanges()}")
    project.clear()
    app.exitQgis()
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], "--edit" in sys.argv[2:]))
