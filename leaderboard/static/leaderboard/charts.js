// Renders every precomputed figure on the page with the locally served plotly.js (no CDN).
// On a narrow screen (a phone) a figure is fitted first: a long title wraps onto lines, legends go below the plot,
// a parallel-coordinates chart keeps ~90 px per axis and scrolls sideways instead of squeezing its axes, and a box
// chart labels every box, its names turned upright.
(function () {
  "use strict";
  var NARROW = 520;
  var TITLE_CHARS = 34;
  var AXIS_PX = 90;
  var PARCOORDS_MARGINS_PX = 180;  // the figure's left margin and its right one, where the colour bar stands
  var TITLE_PX = 13;
  var LINE_PX = 18;  // one line of a 13 px title at Plotly's line spacing (1.3 em), rounded up
  var TITLE_GAP = 10;  // px above a wrapped title, and below it
  var LEGEND_ROW_PX = 20;  // one row of a horizontal legend

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
      // Parallel coordinates write their axis names above the plot, inside the top margin: the title goes above them.
      var top = TITLE_GAP + LINE_PX * lines.length + (parcoords ? 45 : TITLE_GAP);
      // Plotly sets a wrapped title's first baseline on its anchor and the other lines below it, whatever yanchor
      // says ("top" started the title above the figure). Anchored by "bottom" (baseline on the anchor) to the plot
      // area's top and padded up from it, the first baseline lands TITLE_GAP + TITLE_PX below the figure's top and
      // the lines fill a top margin sized for them.
      layout.title = Object.assign({}, title, {
        text: lines.join("<br>"), font: Object.assign({}, title.font, {size: TITLE_PX}),
        yref: "paper", y: 1, yanchor: "bottom", pad: Object.assign({}, title.pad, {b: top - TITLE_GAP - TITLE_PX}),
      });
      layout.margin = Object.assign({}, layout.margin, {t: top});
    }
    if (parcoords) {
      var needed = (parcoords.dimensions || []).length * AXIS_PX + PARCOORDS_MARGINS_PX;
      if (needed > div.clientWidth) {
        div.style.minWidth = needed + "px";
        div.parentNode.classList.add("lb-scroll");
      }
    } else if ((fig.data || []).length && fig.data.every(function (t) { return t.type === "box"; })) {
      // Plotly shows one category label in two once they are closer than ~15 px (20 boxes on a phone): force
      // every label, upright, and let the bottom margin grow to the longest (28 characters at most, short_label).
      layout.xaxis = Object.assign({}, layout.xaxis, {
        tickmode: "linear", dtick: 1, tickangle: -90, automargin: true, tickfont: {size: 11},
      });
    } else if (layout.showlegend !== false) {
      // One legend row per entry, below the axis title; the figure grows by those rows instead of squeezing its
      // plot (a fixed 120 px margin cut an 8-config legend short and put its first row on the axis title).
      var entries = (fig.data || []).filter(function (t) { return t.showlegend !== false && t.name; }).length;
      var rows = Math.max(1, entries) * LEGEND_ROW_PX;
      layout.legend = Object.assign({}, layout.legend, {orientation: "h", x: 0, y: -0.25, yanchor: "top"});
      layout.margin = Object.assign({}, layout.margin, {b: 100 + rows});
      layout.height = (layout.height || 420) + rows;
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
      // A screen reader hears the figure's name (its aria-label says what it plots and which table has the numbers),
      // not the tick labels and legend of its SVG; the modebar's buttons stay reachable.
      div.querySelectorAll(".main-svg").forEach(function (svg) { svg.setAttribute("aria-hidden", "true"); });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", render);
  } else {
    render();
  }
})();
