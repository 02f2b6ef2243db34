// The library's operators' page: downloads (bars) and points collected (line) per day,
// from the JSON the page carries in #library-series (no inline script: CSP).
(function () {
  "use strict";
  var holder = document.getElementById("library-chart");
  var source = document.getElementById("library-series");
  if (!holder || !source || !window.echarts) return;
  var series = JSON.parse(source.textContent);
  holder.style.height = "320px";
  var chart = window.echarts.init(holder);
  chart.setOption({
    tooltip: { trigger: "axis" },
    legend: { data: [holder.dataset.downloads, holder.dataset.points] },
    grid: { left: 40, right: 40, bottom: 30, top: 40 },
    xAxis: { type: "category", data: series.map(function (d) { return d.day.slice(5); }) },
    yAxis: [{ type: "value", minInterval: 1 }, { type: "value" }],
    series: [
      { name: holder.dataset.downloads, type: "bar", data: series.map(function (d) { return d.downloads; }) },
      { name: holder.dataset.points, type: "line", yAxisIndex: 1, smooth: true,
        data: series.map(function (d) { return d.points; }) }
    ]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
