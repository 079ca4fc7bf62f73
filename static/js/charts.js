/*
 * AidTrack dashboard charts. Each <canvas data-chart="KIND" data-source="/api/v1/..."> is drawn with
 * Chart.js from the API answer at data-source (the same endpoints partners use, with the session).
 * The page already shows the figures in a table next to the chart, so without this script (or if
 * the API cannot be reached) nothing is lost but the picture.
 *
 * Kinds:
 *   cumulative  results grouped by mode and week: one line per mode, running total of data-value
 *   bar         one bar per result: label from data-label, value from data-value (largest first,
 *               at most data-limit bars); data-series="field" stacks bars per value of that field;
 *               data-values="a,b" draws the counts a and b of each result side by side
 *               (named by data-value-labels); data-label-format="month" shows ISO dates as months
 * Numbers are formatted for the page's language here, never in the API.
 */
(function () {
  "use strict";

  var lang = document.documentElement.lang || "en";
  var number = new Intl.NumberFormat(lang, { maximumFractionDigits: 3 });
  var COLOURS = ["#0d6efd", "#198754", "#fd7e14", "#6f42c1", "#dc3545", "#20c997", "#6c757d", "#0dcaf0"];

  function labelsFrom(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : {};
  }

  function cumulative(canvas, rows) {
    var valueKey = canvas.dataset.value || "tonnes_delivered";
    var names = labelsFrom(canvas.dataset.seriesLabels);
    var weeks = Array.from(new Set(rows.map(function (r) { return r.week; }))).sort();
    var modes = Array.from(new Set(rows.map(function (r) { return r.mode; })));
    var byKey = {};
    rows.forEach(function (r) { byKey[r.week + "|" + r.mode] = parseFloat(r[valueKey]); });
    var datasets = modes.map(function (mode, i) {
      var running = 0;
      return {
        label: names[mode] || mode,
        data: weeks.map(function (week) { running += byKey[week + "|" + mode] || 0; return Math.round(running * 1000) / 1000; }),
        borderColor: COLOURS[i % COLOURS.length],
        backgroundColor: COLOURS[i % COLOURS.length],
        tension: 0.1,
        pointRadius: weeks.length > 40 ? 0 : 2,
      };
    });
    var dateFormat = new Intl.DateTimeFormat(lang, { day: "numeric", month: "short", year: "numeric" });
    return {
      type: "line",
      data: { labels: weeks.map(function (w) { return dateFormat.format(new Date(w + "T00:00:00")); }), datasets: datasets },
    };
  }

  var monthFormat = new Intl.DateTimeFormat(lang, { month: "short", year: "numeric" });

  function labelOf(canvas, row) {
    var value = row[canvas.dataset.label];
    if (canvas.dataset.labelFormat === "month" && value) return monthFormat.format(new Date(value + "T00:00:00"));
    return value;
  }

  function bar(canvas, rows) {
    var valueKey = canvas.dataset.value || "tonnes_delivered";
    var limit = parseInt(canvas.dataset.limit || "0", 10);
    var horizontal = { indexAxis: canvas.dataset.horizontal ? "y" : "x" };
    if (canvas.dataset.values) {
      // Several counts of each row side by side (e.g. open and overdue items).
      var keys = canvas.dataset.values.split(",");
      var names = (canvas.dataset.valueLabels || canvas.dataset.values).split(",");
      rows = rows.filter(function (r) { return keys.some(function (key) { return parseFloat(r[key]) > 0; }); });
      return {
        type: "bar",
        data: {
          labels: rows.map(function (r) { return labelOf(canvas, r); }),
          datasets: keys.map(function (key, i) {
            return { label: names[i], data: rows.map(function (r) { return parseFloat(r[key]); }), backgroundColor: COLOURS[(i + 2) % COLOURS.length] };
          }),
        },
        options: horizontal,
      };
    }
    if (canvas.dataset.series) {
      var seriesKey = canvas.dataset.series;
      var names = labelsFrom(canvas.dataset.seriesLabels);
      var labels = Array.from(new Set(rows.map(function (r) { return labelOf(canvas, r); })));
      var series = Array.from(new Set(rows.map(function (r) { return r[seriesKey]; })));
      return {
        type: "bar",
        data: {
          labels: labels,
          datasets: series.map(function (s, i) {
            return {
              label: names[s] || s,
              data: labels.map(function (label) {
                return rows.filter(function (r) { return labelOf(canvas, r) === label && r[seriesKey] === s; })
                  .reduce(function (sum, r) { return sum + parseFloat(r[valueKey]); }, 0);
              }),
              backgroundColor: COLOURS[i % COLOURS.length],
            };
          }),
        },
        options: Object.assign({ scales: { x: { stacked: true }, y: { stacked: true } } }, horizontal),
      };
    }
    var sorted = rows.slice().sort(function (a, b) { return parseFloat(b[valueKey]) - parseFloat(a[valueKey]); });
    if (limit) sorted = sorted.slice(0, limit);
    return {
      type: "bar",
      data: {
        labels: sorted.map(function (r) { return labelOf(canvas, r); }),
        datasets: [{
          label: canvas.dataset.valueLabel || valueKey,
          data: sorted.map(function (r) { return parseFloat(r[valueKey]); }),
          backgroundColor: COLOURS[0],
        }],
      },
      options: Object.assign({ plugins: { legend: { display: false } } }, horizontal),
    };
  }

  var KINDS = { cumulative: cumulative, bar: bar };

  function shortLabel(value) {
    var label = String(this.getLabelForValue(value));
    var max = this.chart.width < 500 ? 14 : 28;  // a phone's width leaves less room
    return label.length > max ? label.slice(0, max - 1) + "…" : label;
  }

  function resultsOf(body, canvas) {
    var path = (canvas.dataset.results || "results").split(".");
    return path.reduce(function (node, key) { return node ? node[key] : undefined; }, body) || [];
  }

  function draw(canvas) {
    var kind = KINDS[canvas.dataset.chart];
    if (!kind || typeof Chart === "undefined") return;
    var status = canvas.parentElement.querySelector("[data-chart-status]");
    fetch(canvas.dataset.source, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (body) {
        var config = kind(canvas, resultsOf(body, canvas));
        config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options);
        config.options.locale = lang;
        config.options.plugins = Object.assign({
          tooltip: { callbacks: { label: function (ctx) {
            var value = ctx.parsed[config.options.indexAxis === "y" ? "x" : "y"];
            return (ctx.dataset.label ? ctx.dataset.label + ": " : "") + number.format(value);
          } } },
        }, config.options.plugins);
        if (config.options.indexAxis === "y") {
          // Long names (organisations, groups) are cut on the axis; the tooltip shows them whole.
          config.options.scales = config.options.scales || {};
          config.options.scales.y = Object.assign({}, config.options.scales.y, { ticks: { callback: shortLabel } });
          config.options.plugins.tooltip.callbacks.title = function (items) { return items.length ? items[0].label : ""; };
        }
        var previous = Chart.getChart(canvas);
        if (previous) previous.destroy();
        new Chart(canvas, config);
        canvas.dataset.chartReady = "true";
        if (status) status.hidden = true;
      })
      .catch(function () {
        if (status) { status.hidden = false; }
        canvas.dataset.chartReady = "error";
      });
  }

  function drawAll(root) {
    (root || document).querySelectorAll("canvas[data-chart]").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  // Pages that swap parts with htmx redraw the charts of what came in.
  document.addEventListener("htmx:afterSwap", function (event) { drawAll(event.target); });
  window.AidTrackCharts = { draw: draw, drawAll: drawAll };
})();
