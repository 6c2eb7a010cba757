// Draws every chart of a dashboard page with the plotly.js the server ships (no inline script, no CDN).
// Each chart is <div data-figure="ID"> next to <script type="application/json" id="ID"> holding
// {"data": [...], "layout": {...}}; a div with data-clickable opens the URL in a clicked point's customdata.
(function () {
  "use strict";
  var BASE = {
    margin: {l: 60, r: 20, t: 36, b: 50},
    paper_bgcolor: "#ffffff", plot_bgcolor: "#ffffff",
    font: {family: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", size: 12, color: "#1f2933"},
    xaxis: {gridcolor: "#e4e7eb", zeroline: false}, yaxis: {gridcolor: "#e4e7eb", zeroline: false}
  };

  function merge(base, extra) {
    var out = {};
    Object.keys(base).forEach(function (k) { out[k] = base[k]; });
    Object.keys(extra || {}).forEach(function (k) {
      var b = out[k], e = extra[k];
      out[k] = (b && typeof b === "object" && !Array.isArray(b) && e && typeof e === "object" && !Array.isArray(e))
        ? merge(b, e) : e;
    });
    return out;
  }

  function draw(div) {
    var source = document.getElementById(div.getAttribute("data-figure"));
    if (!source) { return; }
    var spec = JSON.parse(source.textContent);
    // A fresh copy per chart: plotly writes its axis types back into the layout it is given.
    var layout = merge(JSON.parse(JSON.stringify(BASE)), spec.layout);
    layout.height = Number(div.getAttribute("data-height") || 320);
    window.Plotly.newPlot(div, spec.data, layout, {displaylogo: false, responsive: true}).then(function () {
      div.setAttribute("data-drawn", "1");
    });
    if (div.hasAttribute("data-clickable")) {
      div.on("plotly_click", function (event) {
        var point = event.points && event.points[0];
        if (point && typeof point.customdata === "string" && point.customdata.indexOf("/ui/") === 0) {
          window.location.assign(point.customdata);
        }
      });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.Plotly) { return; }
    Array.prototype.forEach.call(document.querySelectorAll("[data-figure]"), draw);
  });
}());
