// The results page's charts (ECharts, loaded on this page only). The numbers come from the
// page's <script type="application/json" id="activity-chart-data"> (json_script), never
// from inline code; each chart has a table with the same numbers right below it.
(function () {
  "use strict";

  function data() {
    var element = document.getElementById("activity-chart-data");
    return element ? JSON.parse(element.textContent) : null;
  }

  function chart(id, option) {
    var element = document.getElementById(id);
    if (!element || !window.echarts) return null;
    var instance = window.echarts.init(element);
    instance.setOption(option);
    window.addEventListener("resize", function () { instance.resize(); });
    return instance;
  }

  function start() {
    var d = data();
    if (!d) return;
    var words = d.words || {};
    var grid = { left: 40, right: 40, top: 40, bottom: 40, containLabel: true };
    chart("chart-timeline", {
      tooltip: { trigger: "axis" },
      legend: { data: [words.count, words.total] },
      grid: grid,
      xAxis: { type: "category", data: d.labels },
      yAxis: [{ type: "value", minInterval: 1 }, { type: "value", minInterval: 1 }],
      series: [
        { name: words.count, type: "bar", data: d.counts },
        { name: words.total, type: "line", yAxisIndex: 1, data: d.totals, smooth: true }
      ]
    });
    chart("chart-points", {
      tooltip: { trigger: "axis" },
      grid: grid,
      xAxis: { type: "category", data: d.labels },
      yAxis: { type: "value" },
      series: [{ name: words.points, type: "line", areaStyle: {}, data: d.points }]
    });
    chart("chart-prizes", {
      tooltip: { trigger: "axis" },
      legend: { data: [words.quantity, words.given] },
      grid: grid,
      xAxis: { type: "category", data: d.prizes.map(function (p) { return p.name; }) },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: words.quantity, type: "bar", data: d.prizes.map(function (p) { return p.quantity; }) },
        { name: words.given, type: "bar", data: d.prizes.map(function (p) { return p.given; }) }
      ]
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
