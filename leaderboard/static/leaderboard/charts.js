// Renders every precomputed figure on the page with the locally served plotly.js (no CDN).
(function () {
  "use strict";
  function render() {
    if (typeof Plotly === "undefined") { return; }
    document.querySelectorAll("[data-lb-figure]").forEach(function (div) {
      var source = document.getElementById(div.getAttribute("data-lb-figure"));
      if (!source) { return; }
      var fig = JSON.parse(source.textContent);
      Plotly.newPlot(div, fig.data || [], fig.layout || {}, {responsive: true, displaylogo: false});
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", render);
  } else {
    render();
  }
})();
