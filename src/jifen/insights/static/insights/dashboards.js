// The insights dashboards: each chart drawn from the JSON the page carries in
// #insights-series (no inline script: CSP); every chart's figures are also in the
// table under it and its xlsx.
(function () {
  "use strict";
  var source = document.getElementById("insights-series");
  var wordsSource = document.getElementById("insights-words");
  if (!source || !wordsSource || !window.echarts) return;
  var series = JSON.parse(source.textContent);
  var words = JSON.parse(wordsSource.textContent);
  var charts = [];
  var narrow = window.matchMedia("(max-width: 576px)").matches;

  function bars(categoryNames, named, options) {
    options = options || {};
    return {
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 8, right: 8, bottom: 8, top: 36, containLabel: true },
      xAxis: options.horizontal ? { type: "value" } :
        { type: "category", data: categoryNames, axisLabel: { rotate: narrow ? 45 : 0 } },
      yAxis: options.horizontal ?
        { type: "category", data: categoryNames, inverse: true } : { type: "value" },
      series: named.map(function (s) {
        return { name: s.name, type: s.type || "bar", stack: options.stack, data: s.data,
                 smooth: s.type === "line" };
      })
    };
  }

  function heatmap(data) {
    var counts = data.checkins.concat(data.orders).map(function (d) { return d[2]; });
    var most = counts.length ? Math.max.apply(null, counts) : 1;
    var grid = function (top, height) {
      return { left: 48, right: 8, top: top, height: height };
    };
    return {
      tooltip: { position: "top" },
      title: [{ text: words.checkins, top: 0, textStyle: { fontSize: 13 } },
              { text: words.orders, top: "50%", textStyle: { fontSize: 13 } }],
      grid: [grid(24, "32%"), grid("62%", "32%")],
      xAxis: [{ type: "category", data: data.hours, gridIndex: 0 },
              { type: "category", data: data.hours, gridIndex: 1 }],
      yAxis: [{ type: "category", data: data.weekdays, gridIndex: 0, inverse: true },
              { type: "category", data: data.weekdays, gridIndex: 1, inverse: true }],
      visualMap: { min: 0, max: most, show: false, inRange: { color: ["#f1f5f9", "#206bc4"] } },
      series: [
        { name: words.checkins, type: "heatmap", data: data.checkins, xAxisIndex: 0, yAxisIndex: 0 },
        { name: words.orders, type: "heatmap", data: data.orders, xAxisIndex: 1, yAxisIndex: 1 }
      ]
    };
  }

  var builders = {
    flows: function (d) {
      return bars(d.months, [{ name: words.issued, data: d.issued },
        { name: words.spent, data: d.spent }, { name: words.expired, data: d.expired }]);
    },
    categories: function (d) {
      return bars(d.months, d.categories, { stack: "points" });
    },
    "per-head": function (d) {
      return bars(d.departments, [{ name: words.per_head, data: d.per_head }],
                  { horizontal: true });
    },
    items: function (d) {
      return bars(d.items, [{ name: words.redemptions, data: d.redemptions }],
                  { horizontal: true });
    },
    activities: function (d) {
      return bars(d.activities, [{ name: words.participants, data: d.participants },
        { name: words.collected, data: d.collected }]);
    },
    liability: function (d) {
      return bars(d.buckets, [{ name: words.points, data: d.points }]);
    },
    inactive: function (d) {
      return bars(d.departments, [{ name: words.inactive, data: d.counts }],
                  { horizontal: true });
    },
    fairness: function (d) {
      return bars(d.departments, [{ name: words.p10, data: d.p10 },
        { name: words.median, data: d.median }, { name: words.p90, data: d.p90 }]);
    },
    heatmap: heatmap
  };

  document.querySelectorAll("[data-chart]").forEach(function (holder) {
    var key = holder.dataset.chart;
    if (!builders[key] || !series[key]) return;
    var chart = window.echarts.init(holder);
    chart.setOption(builders[key](series[key]));
    charts.push(chart);
  });
  window.addEventListener("resize", function () {
    charts.forEach(function (chart) { chart.resize(); });
  });
})();
