/* The province dashboard's charts, drawn with the self-hosted Apache ECharts from the JSON data block
   #supervision-charts (written by the server with every label as data: no text of it is ever HTML or script).
   A bar that stands for a list (sites of a level, overdue sites...) opens that list when clicked. */
(function () {
  "use strict";
  var block = document.getElementById("supervision-charts");
  if (!block || !window.echarts) { return; }
  var data = JSON.parse(block.textContent);
  var drawn = [];

  function sameSite(url) {
    return typeof url === "string" && url.charAt(0) === "/" && url.charAt(1) !== "/" && url.indexOf("\\") < 0;
  }

  function option(c) {
    var horizontal = !!c.horizontal;
    var category = { type: "category", data: c.categories, axisLabel: { hideOverlap: true } };
    var value = { type: "value", minInterval: 1 };
    if (horizontal) { category.inverse = true; }
    return {
      animation: false,
      tooltip: { trigger: "axis", axisPointer: { type: c.kind === "line" ? "line" : "shadow" }, confine: true },
      legend: { top: 0, type: "scroll" },
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      xAxis: horizontal ? value : category,
      yAxis: horizontal ? category : value,
      series: c.series.map(function (s) {
        return { name: s.name, type: c.kind === "line" ? "line" : "bar", data: s.data,
                 stack: c.kind === "stacked" || horizontal ? "total" : undefined,
                 itemStyle: { color: s.color }, lineStyle: c.kind === "line" ? { color: s.color } : undefined,
                 emphasis: { focus: "series" } };
      })
    };
  }

  (data.charts || []).forEach(function (c) {
    var box = document.getElementById("chart-" + c.id);
    if (!box) { return; }
    var empty = !c.series.length || c.series.every(function (s) { return s.data.every(function (v) { return !v; }); });
    if (empty) {
      box.classList.add("empty");
      box.textContent = box.getAttribute("data-empty") || "";
      return;
    }
    var chart = window.echarts.init(box, null, { renderer: "canvas" });
    chart.setOption(option(c));
    if (c.links) {
      chart.on("click", function (params) {
        var url = c.links[params.dataIndex];
        if (sameSite(url)) { window.location.assign(url); }
      });
      box.classList.add("linked");
    }
    box.setAttribute("data-drawn", String(c.series.length));
    drawn.push(chart);
  });
  window.addEventListener("resize", function () { drawn.forEach(function (ch) { ch.resize(); }); });
}());
