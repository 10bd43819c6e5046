// The observatory pages (issue 7): forms that apply themselves, the print button, and the
// ECharts charts drawn from <script type="application/json" id="obs-charts">
// ({id: {kind: "bubble" | "lines" | "bars", …}}) into each <div data-chart="id">, with PNG and
// SVG downloads. No inline code or style: the page's Content-Security-Policy forbids them.
(function () {
  "use strict";

  document.documentElement.classList.add("obs-js");

  var QUADRANT_COLOURS = {
    Star: "#1a9850",
    Mature: "#1f5fae",
    Emerging: "#e08214",
    Transforming: "#8c8c8c"
  };
  var SERIES_COLOURS = ["#1f5fae", "#e08214", "#1a9850", "#b3261e", "#7b3294"];
  var charts = {};

  function number(value, digits) {
    if (value === null || value === undefined) {
      return "–";
    }
    return Number(value).toLocaleString("en", { maximumFractionDigits: digits });
  }

  function percent(value) {
    return value === null || value === undefined ? "–" : (value * 100).toFixed(1) + " %";
  }

  // a round bound at or above value (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10 × a power of ten)
  function niceCeil(value) {
    if (!(value > 0)) {
      return 1;
    }
    var power = Math.pow(10, Math.floor(Math.log10(value)));
    var steps = [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10];
    for (var i = 0; i < steps.length; i++) {
      if (steps[i] * power >= value) {
        return steps[i] * power;
      }
    }
    return 10 * power;
  }

  // ---- options per kind of chart -------------------------------------------------------------

  function bubbleOption(chart) {
    var maxSize = Math.max.apply(null, chart.points.map(function (p) { return p.size; }).concat([1]));
    var maxX = Math.max.apply(null, chart.points.map(function (p) { return Math.abs(p.x); }).concat([1e-9]));
    var maxY = Math.max.apply(null, chart.points.map(function (p) { return p.y; }).concat([2]));
    var byQuadrant = {};
    chart.points.forEach(function (p) {
      var key = p.quadrant || "–";
      (byQuadrant[key] = byQuadrant[key] || []).push([p.x, p.y, p.size, p.name, p.code]);
    });
    var fmtX = chart.x_percent ? percent : function (v) { return number(v, 2); };
    var corners = {
      "top-right": { right: 40, top: 36 },
      "top-left": { left: 80, top: 36 },
      "bottom-right": { right: 40, bottom: 66 },
      "bottom-left": { left: 80, bottom: 66 }
    };
    var graphic = Object.keys(chart.quadrants).map(function (name) {
      var place = corners[chart.quadrants[name]];
      return Object.assign({
        type: "text",
        silent: true,
        style: { text: name, fill: QUADRANT_COLOURS[name] || "#555", font: "bold 13px sans-serif" }
      }, place);
    });
    var series = Object.keys(byQuadrant).map(function (name, i) {
      return {
        name: name,
        type: "scatter",
        data: byQuadrant[name],
        itemStyle: { color: QUADRANT_COLOURS[name] || "#bbb", opacity: 0.75 },
        symbolSize: function (d) { return 8 + 42 * Math.sqrt(d[2] / maxSize); },
        markLine: i === 0 ? {
          silent: true,
          symbol: "none",
          lineStyle: { type: "dashed", color: "#888" },
          label: { show: false },
          data: [{ xAxis: 0 }, { yAxis: 1 }]
        } : undefined
      };
    });
    return {
      animation: false,
      grid: { left: 70, right: 30, top: 30, bottom: 56 },
      legend: { bottom: 0 },
      graphic: graphic,
      tooltip: {
        trigger: "item",
        formatter: function (p) {
          var d = p.data;
          return d[3] + "<br>LQ: " + number(d[1], 2) + "<br>" + chart.x_label + ": " + fmtX(d[0]) +
            "<br>" + chart.size_label + ": " + number(d[2], 0);
        }
      },
      xAxis: {
        type: "value", name: chart.x_label, nameLocation: "middle", nameGap: 28,
        min: -niceCeil(maxX * 1.1), max: niceCeil(maxX * 1.1),
        axisLabel: { formatter: chart.x_percent ? function (v) { return (v * 100).toFixed(1) + "%"; } : null }
      },
      yAxis: { type: "value", name: chart.y_label, nameLocation: "middle", nameGap: 42, min: 0, max: niceCeil(maxY * 1.05) },
      series: series
    };
  }

  function linesOption(chart) {
    return {
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { bottom: 0 },
      grid: { left: 70, right: chart.y_labels.length > 1 ? 70 : 20, top: 30, bottom: 50 },
      xAxis: { type: "category", data: chart.x.map(String), boundaryGap: false },
      yAxis: chart.y_labels.map(function (label) {
        return { type: "value", name: label, scale: true, splitLine: { show: chart.y_labels.length === 1 } };
      }),
      series: chart.series.map(function (s, i) {
        return {
          name: s.name, type: "line", data: s.values, yAxisIndex: s.axis || 0, connectNulls: false,
          itemStyle: { color: SERIES_COLOURS[i % SERIES_COLOURS.length] }
        };
      })
    };
  }

  function barsOption(chart) {
    var lq = /location quotient/i.test(chart.y_label);
    return {
      animation: false,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { bottom: 0, show: chart.series.length > 1 },
      grid: { left: 10, right: 40, top: 24, bottom: chart.series.length > 1 ? 40 : 30, containLabel: true },
      xAxis: { type: "value", name: chart.y_label, nameLocation: "middle", nameGap: 22 },
      yAxis: { type: "category", data: chart.categories, inverse: true, axisLabel: { width: 180, overflow: "truncate" } },
      series: chart.series.map(function (s, i) {
        return {
          name: s.name, type: "bar", data: s.values,
          itemStyle: { color: SERIES_COLOURS[i % SERIES_COLOURS.length] },
          markLine: lq && i === 0 ? {
            silent: true, symbol: "none", lineStyle: { type: "dashed", color: "#888" },
            label: { formatter: "LQ = 1", position: "start" }, data: [{ xAxis: 1 }]
          } : undefined
        };
      })
    };
  }

  function option(chart) {
    if (chart.kind === "bubble") {
      return bubbleOption(chart);
    }
    if (chart.kind === "bars") {
      return barsOption(chart);
    }
    return linesOption(chart);
  }

  // ---- downloads ----------------------------------------------------------------------------

  function save(url, filename, revoke) {
    var a = document.createElement("a");
    a.href = url;
    a.download = filename;
    document.body.appendChild(a);
    a.click();
    a.remove();
    if (revoke) {
      setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
    }
  }

  function download(id, type) {
    var entry = charts[id];
    if (!entry) {
      return;
    }
    var width = entry.element.clientWidth || 800;
    var height = entry.element.clientHeight || 400;
    var name = (document.body.dataset.filePrefix || "chart") + "-" + id;
    if (type === "svg") {
      var svg = echarts.init(null, null, { renderer: "svg", ssr: true, width: width, height: height });
      svg.setOption(Object.assign({ backgroundColor: "#ffffff" }, entry.option));
      var blob = new Blob([svg.renderToSVGString()], { type: "image/svg+xml" });
      svg.dispose();
      save(URL.createObjectURL(blob), name + ".svg", true);
      return;
    }
    // PNG: the same option drawn on a canvas off screen
    var box = document.createElement("div");
    box.className = "obs-offscreen";
    document.body.appendChild(box);
    var canvas = echarts.init(box, null, { renderer: "canvas", width: width, height: height });
    canvas.setOption(entry.option);
    var url = canvas.getDataURL({ type: "png", pixelRatio: 2, backgroundColor: "#ffffff" });
    canvas.dispose();
    box.remove();
    save(url, name + ".png", false);
  }

  // ---- start --------------------------------------------------------------------------------

  function drawCharts() {
    var source = document.getElementById("obs-charts");
    if (!source || typeof echarts === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    document.querySelectorAll("[data-chart]").forEach(function (element) {
      var id = element.getAttribute("data-chart");
      var chart = data[id];
      if (!chart) {
        return;
      }
      var opt = option(chart);
      var instance = echarts.init(element, null, { renderer: "svg" });
      instance.setOption(opt);
      charts[id] = { instance: instance, option: opt, element: element, data: chart };
      element.setAttribute("data-drawn", "true");
    });
    window.addEventListener("resize", function () {
      Object.keys(charts).forEach(function (id) { charts[id].instance.resize(); });
    });
    window.addEventListener("beforeprint", function () {
      Object.keys(charts).forEach(function (id) { charts[id].instance.resize(); });
    });
    // for the browser tests: every chart, its option and the figures it was drawn from
    window.clusterAtlasCharts = charts;
  }

  function wireForms() {
    document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
      form.addEventListener("change", function () { form.requestSubmit ? form.requestSubmit() : form.submit(); });
    });
    document.querySelectorAll("[data-year-slider]").forEach(function (slider) {
      var output = slider.form && slider.form.querySelector("[data-year-output]");
      slider.addEventListener("input", function () {
        if (output) {
          output.textContent = slider.value;
        }
      });
    });
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
    document.querySelectorAll("[data-download]").forEach(function (button) {
      button.addEventListener("click", function () {
        download(button.getAttribute("data-chart-id"), button.getAttribute("data-download"));
      });
    });
  }

  function start() {
    wireForms();
    drawCharts();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
