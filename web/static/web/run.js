// The run page, live: draws the server-built Plotly figures, then polls the run's JSON every 2 s, appends the
// new updates to every trace (each trace names its metric in trace.meta) and refreshes the facts, until the
// run reaches a final status. No page reloads. Until the run has an update the page shows a sentence instead of
// empty axes; the first update that arrives draws the charts.
(function () {
  "use strict";
  const POLL_MS = 2000;
  const METRICS_PER_POLL = 2000; // the server's page size (web/runs/views.py)
  const figures = JSON.parse(document.getElementById("run-figures").textContent);
  let state = JSON.parse(document.getElementById("run-state").textContent);
  let lastUpdate = state.last_update || 0;
  const charts = [];
  // What a screen reader last heard (#run-announcer, role="status"): the status, and progress in quarters, so it
  // hears a run start, pass 25/50/75% and finish, not every 2 s poll.
  let announced = { status: state.status, quarter: Math.floor(4 * (state.progress || 0)) };

  // A screen reader hears a chart's name (its box's aria-label), not the tick labels and legend of its SVG; the
  // modebar's buttons stay reachable.
  function hideDrawing(el) {
    el.querySelectorAll(".main-svg").forEach(function (svg) { svg.setAttribute("aria-hidden", "true"); });
  }

  function draw() {
    // Shown first: plotly.js sizes a figure to its box, and a hidden box has no width.
    document.getElementById("charts").hidden = false;
    document.getElementById("charts-empty").hidden = true;
    for (const [key, fig] of Object.entries(figures)) {
      const el = document.getElementById("chart-" + key);
      if (!el) continue;
      Plotly.newPlot(el, fig.data, fig.layout, { responsive: true, displaylogo: false });
      hideDrawing(el);
      charts.push(el);
    }
  }

  if (state.has_updates) draw();

  function extend(rows) {
    if (!rows || !rows.length) return;
    if (!charts.length) draw();
    for (const el of charts) {
      const indices = [], xs = [], ys = [];
      el.data.forEach(function (trace, i) {
        if (!trace.meta || !trace.meta.metric) return;
        indices.push(i);
        xs.push(rows.map(function (r) { return r[trace.meta.x]; }));
        ys.push(rows.map(function (r) {
          const v = r.metrics[trace.meta.metric];
          return v === undefined ? null : v;
        }));
      });
      if (indices.length) Plotly.extendTraces(el, { x: xs, y: ys }, indices);
    }
    lastUpdate = rows[rows.length - 1].update;
  }

  // The server's rules (web/numbers.py): returns to one decimal, steps, steps/s and seconds whole, thousands grouped.
  function grouped(value, decimals) {
    const text = value.toLocaleString("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
    return /^-[0.,]+$/.test(text) ? text.slice(1) : text;
  }
  const RETURNS = ["final_return_mean", "final_return_std"];
  const WHOLE = ["steps_done", "total_steps", "steps_per_s", "wall_clock_s"];

  function text(key, value) {
    if (value === null || value === undefined || value === "") return "—";
    if (key === "eval_returns") return value.map(function (v) { return grouped(v, 1); }).join("; ") || "—";
    if (RETURNS.includes(key) && typeof value === "number") return grouped(value, 1);
    if (WHOLE.includes(key) && typeof value === "number") return grouped(value, 0);
    if (typeof value === "number" && !Number.isInteger(value)) return value.toFixed(2);
    return String(value);
  }

  function render(s) {
    document.querySelectorAll("[data-field]").forEach(function (el) {
      const key = el.dataset.field;
      if (key in s) el.textContent = text(key, s[key]);
    });
    const badge = document.querySelector("[data-field=status_label]");
    if (badge) badge.className = "status status-" + s.status;
    const percent = Math.round(100 * s.progress);
    document.getElementById("progress-bar").style.width = percent + "%";
    document.getElementById("progress").setAttribute("aria-valuenow", String(percent));
    announce(s, percent);
    const cancel = document.getElementById("cancel-form");
    if (cancel) cancel.hidden = !s.is_active || s.cancel_requested;
    document.getElementById("cancel-note").hidden = !(s.is_active && s.cancel_requested);
    document.getElementById("queued-note").hidden = s.status !== "queued";
    ["error-box", "error-heading", "error-next"].forEach(function (id) {
      document.getElementById(id).hidden = !s.error;
    });
    document.getElementById("progress").className = "progress progress-" + s.status;
    document.getElementById("checkpoint").hidden = !s.has_checkpoint;
    const evaluated = s.final_return_mean !== null && s.final_return_mean !== undefined;
    document.getElementById("evaluated").hidden = !evaluated;
    document.getElementById("not-evaluated").hidden = evaluated;
    document.body.dataset.runStatus = s.status;
  }

  function announce(s, percent) {
    const quarter = Math.floor(4 * s.progress);
    let message = "";
    if (s.status !== announced.status) {
      const label = document.querySelector("[data-field=status_label]");
      message = "Run status: " + (label ? label.textContent.trim() : s.status) + ".";
      if (s.error) message += " The reason is under \u201cWhy it stopped\u201d.";
    } else if (s.is_active && quarter > announced.quarter && quarter < 4) {
      message = percent + "% trained.";
    }
    announced = { status: s.status, quarter: quarter };
    if (message) document.getElementById("run-announcer").textContent = message;
  }

  async function poll() {
    let more = false;
    try {
      const response = await fetch(window.RUN_STATUS_URL + "?after=" + lastUpdate, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (response.ok) {
        const s = await response.json();
        extend(s.metrics);
        render(s);
        more = s.metrics.length >= METRICS_PER_POLL;
        state = s;
      }
    } catch (err) {
      // A blip in the network is not the end of the run: keep polling.
    }
    if (state.is_active || more) window.setTimeout(poll, more ? 0 : POLL_MS);
  }

  // Cancel and delete cannot be undone: ask first (a stray click deleted a run and its checkpoint at once).
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });

  document.body.dataset.runStatus = state.status;
  if (state.more) window.setTimeout(poll, 0);
  else if (state.is_active) window.setTimeout(poll, POLL_MS);
})();
