// Renders every precomputed figure on the page with the locally served plotly.js (no CDN).
// On a narrow screen (a phone) a figure is fitted first: a long title wraps onto lines, legends go below the plot,
// and a parallel-coordinates chart keeps ~90 px per axis and scrolls sideways instead of squeezing its axes.
(function () {
  "use strict";
  var NARROW = 520;
  var TITLE_CHARS = 34;
  var AXIS_PX = 90;

  function wrap(text, width) {
    var lines = [""];
    text.split(" ").forEach(function (word) {
      var last = lines[lines.length - 1];
      if (last && (last + " " + word).length > width) { lines.push(word); }
      else { lines[lines.length - 1] = last ? last + " " + word : word; }
    });
    return lines;
  }

  function fitted(div, fig) {
    var layout = Object.assign({}, fig.layout || {});
    if (div.clientWidth >= NARROW) { return layout; }
    var parcoords = (fig.data || []).filter(function (t) { return t.type === "parcoords"; })[0];
    var title = typeof layout.title === "string" ? {text: layout.title} : layout.title;
    if (title && title.text && title.text.length > TITLE_CHARS) {
      var lines = wrap(title.text, TITLE_CHARS);
      layout.title = Object.assign({}, title, {
        text: lines.join("<br>"), font: Object.assign({}, title.font, {size: 13}), yref: "container", y: 0.99, yanchor: "top",
      });
      // Parallel coordinates write their axis names above the plot, inside the top margin: room for both.
      layout.margin = Object.assign({}, layout.margin, {t: 30 + 18 * lines.length + (parcoords ? 45 : 0)});
    }
    if (parcoords) {
      var needed = (parcoords.dimensions || []).length * AXIS_PX + 100;
      if (needed > div.clientWidth) {
        div.style.minWidth = needed + "px";
        div.parentNode.classList.add("lb-scroll");
      }
    } else if (layout.showlegend !== false) {
      layout.legend = Object.assign({}, layout.legend, {orientation: "h", x: 0, y: -0.25, yanchor: "top"});
      layout.margin = Object.assign({}, layout.margin, {b: 120});
    }
    return layout;
  }

  function render() {
    if (typeof Plotly === "undefined") { return; }
    document.querySelectorAll("[data-lb-figure]").forEach(function (div) {
      var source = document.getElementById(div.getAttribute("data-lb-figure"));
      if (!source) { return; }
      var fig = JSON.parse(source.textContent);
      Plotly.newPlot(div, fig.data || [], fitted(div, fig), {responsive: true, displaylogo: false});
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", render);
  } else {
    render();
  }
})();
