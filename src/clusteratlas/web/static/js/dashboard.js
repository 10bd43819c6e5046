// The event dashboard's charts (issue 6). The figures come from the page's
// <script type="application/json" id="dashboard-data"> block: {name: {kind, labels, values}};
// each <div data-chart="name"> gets a bar or pie chart drawn by ECharts. No inline code: the
// page's Content-Security-Policy forbids it.
(function () {
  "use strict";

  function option(chart) {
    if (chart.kind === "pie") {
      return {
        tooltip: { trigger: "item" },
        legend: { bottom: 0 },
        series: [{
          type: "pie",
          radius: ["35%", "65%"],
          data: chart.labels.map(function (label, i) {
            return { name: label, value: chart.values[i] };
          })
        }]
      };
    }
    return {
      tooltip: { trigger: "axis" },
      grid: { left: 40, right: 10, top: 10, bottom: 40 },
      xAxis: { type: "category", data: chart.labels, axisLabel: { interval: 0, rotate: chart.labels.length > 5 ? 30 : 0 } },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ type: "bar", data: chart.values }]
    };
  }

  function draw() {
    var source = document.getElementById("dashboard-data");
    if (!source || typeof echarts === "undefined") {
      return;
    }
    var charts = JSON.parse(source.textContent);
    var drawn = [];
    document.querySelectorAll("[data-chart]").forEach(function (element) {
      var chart = charts[element.getAttribute("data-chart")];
      if (!chart) {
        return;
      }
      var instance = echarts.init(element, null, { renderer: "svg" });
      instance.setOption(option(chart));
      drawn.push(instance);
    });
    window.addEventListener("resize", function () {
      drawn.forEach(function (instance) { instance.resize(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
