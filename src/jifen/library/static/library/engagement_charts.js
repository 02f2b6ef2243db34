// The engagement operators' page: check-in rate per day, the weekday × hour heatmap and
// comment/share activity, drawn with ECharts from the JSON the page carries
// (#engagement-data, a json_script block: data, not code, so the CSP holds).
(function () {
  "use strict";

  function start() {
    var source = document.getElementById("engagement-data");
    if (!source || !window.echarts) return;
    var data = JSON.parse(source.textContent);
    var charts = [];

    function chart(name, option) {
      var node = document.querySelector('[data-chart="' + name + '"]');
      if (!node) return;
      var c = window.echarts.init(node);
      c.setOption(option);
      charts.push(c);
    }

    var grid = { left: 40, right: 16, top: 32, bottom: 32, containLabel: true };
    chart("rate", {
      grid: grid, tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: data.days },
      yAxis: { type: "value", max: 100 },
      series: [{ name: data.labels.rate, type: "line", smooth: true, areaStyle: {},
                 data: data.rate }]
    });
    var hours = [];
    for (var h = 0; h < 24; h += 1) hours.push(String(h));
    chart("heatmap", {
      grid: grid, tooltip: { position: "top" },
      xAxis: { type: "category", data: hours, splitArea: { show: true } },
      yAxis: { type: "category", data: data.weekdays, inverse: true, splitArea: { show: true } },
      visualMap: { min: 0, max: data.heatmap_max, calculable: false, orient: "horizontal",
                   left: "center", bottom: 0, show: false },
      series: [{ name: data.labels.checkins, type: "heatmap", data: data.heatmap }]
    });
    chart("activity", {
      grid: grid, tooltip: { trigger: "axis" },
      legend: { data: [data.labels.comments, data.labels.shares] },
      xAxis: { type: "category", data: data.days },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: data.labels.comments, type: "bar", data: data.comments },
        { name: data.labels.shares, type: "bar", data: data.shares }
      ]
    });
    window.addEventListener("resize", function () {
      charts.forEach(function (c) { c.resize(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
