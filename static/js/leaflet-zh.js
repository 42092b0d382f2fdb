// Leaflet's and Leaflet.draw's own words in Chinese on a Chinese page (<html lang="zh-CN">): the zoom buttons' titles
// and every button, tooltip and action of the drawing toolbar. Loaded after the vendor scripts, before any map is
// built (fossil_registry/maps.render), so the controls are created with these words.
(function () {
  "use strict";
  if (typeof L === "undefined" || !/^zh/i.test(document.documentElement.lang || "")) {
    return;
  }
  L.Control.Zoom.prototype.options.zoomInTitle = "放大";
  L.Control.Zoom.prototype.options.zoomOutTitle = "缩小";
  if (L.Control.Fullscreen) {
    L.Control.Fullscreen.prototype.options.title = {"false": "全屏显示", "true": "退出全屏"};
  }
  if (!L.drawLocal) {
    return;
  }
  L.drawLocal = {
    draw: {
      toolbar: {
        actions: {title: "取消绘制", text: "取消"},
        finish: {title: "完成绘制", text: "完成"},
        undo: {title: "删除最后绘制的点", text: "删除最后一个点"},
        buttons: {polyline: "绘制折线", polygon: "绘制多边形", rectangle: "绘制矩形", circle: "绘制圆",
                  marker: "放置标记", circlemarker: "放置圆形标记"}
      },
      handlers: {
        circle: {tooltip: {start: "按住并拖动以绘制圆。"}, radius: "半径"},
        circlemarker: {tooltip: {start: "在地图上单击以放置圆形标记。"}},
        marker: {tooltip: {start: "在地图上单击以放置标记。"}},
        polygon: {tooltip: {start: "单击以开始绘制形状。", cont: "单击以继续绘制形状。",
                            end: "单击第一个点以闭合此形状。"}},
        polyline: {error: "<strong>错误：</strong>边线不能交叉！",
                   tooltip: {start: "单击以开始绘制线。", cont: "单击以继续绘制线。",
                             end: "单击最后一个点以结束绘制。"}},
        rectangle: {tooltip: {start: "按住并拖动以绘制矩形。"}},
        simpleshape: {tooltip: {end: "松开鼠标以完成绘制。"}}
      }
    },
    edit: {
      toolbar: {
        actions: {save: {title: "保存修改", text: "保存"}, cancel: {title: "取消编辑，放弃所有修改", text: "取消"},
                  clearAll: {title: "清除所有图层", text: "全部清除"}},
        buttons: {edit: "编辑图层", editDisabled: "没有可编辑的图层", remove: "删除图层",
                  removeDisabled: "没有可删除的图层"}
      },
      handlers: {
        edit: {tooltip: {text: "拖动控制点或标记以编辑要素。", subtext: "单击“取消”放弃修改。"}},
        remove: {tooltip: {text: "单击要素将其删除。"}}
      }
    }
  };
}());
