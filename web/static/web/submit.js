// Submit form: what this submission costs (seeds × the steps each run is charged) beside the user's allowance, as
// they choose, so a submission over a quota is seen before it is sent. The server checks the quotas again on submit.
(function () {
  "use strict";
  const box = document.getElementById("allowance");
  const out = document.getElementById("submission-cost");
  const budgetsNode = document.getElementById("env-budgets");
  const batchesNode = document.getElementById("config-batches");
  const config = document.querySelector("select[name=config]");
  const env = document.querySelector("select[name=environment]");
  const seeds = document.querySelector("input[name=seeds]");
  if (!box || !out || !budgetsNode || !batchesNode || !config || !env || !seeds) return;
  const budgets = JSON.parse(budgetsNode.textContent);
  const batches = JSON.parse(batchesNode.textContent);
  const stepsLeft = Number(box.dataset.stepsLeft);
  const runsLeft = Number(box.dataset.runsLeft);
  const fmt = (n) => n.toLocaleString("en-US");

  // What the server charges a run (web.runs.services.planned_steps): the budget rounded down to whole batches,
  // since the trainer only stops between batches. A batch larger than the budget is refused.
  function plannedSteps(budget, batch) {
    return batch > budget ? null : Math.floor(budget / batch) * batch;
  }

  function costText(n, steps, budget, batch) {
    const runs = `${fmt(n)} run${n === 1 ? "" : "s"}`;
    const whole = steps < budget ? ` (the ${fmt(budget)}-step budget in whole batches of ${fmt(batch)})` : "";
    return `This submission: ${runs} × ${fmt(steps)} steps${whole} = ${fmt(n * steps)} steps.`;
  }

  function update() {
    const budget = budgets[env.value];
    const batch = batches[config.value];  // absent for a config that no longer validates: the server says why
    const n = Number.parseInt(seeds.value, 10);
    out.classList.remove("over");
    if (budget === undefined || batch === undefined || !Number.isInteger(n) || n < 1) {
      out.textContent = "";
      return;
    }
    const steps = plannedSteps(budget, batch);
    if (steps === null) {
      out.textContent = `One batch of this config (${fmt(batch)} steps) is larger than this environment's budget ` +
        `(${fmt(budget)} steps).`;
      out.classList.add("over");
      return;
    }
    const cost = n * steps;
    let text = costText(n, steps, budget, batch);
    if (n > runsLeft) {
      text += ` That is more runs than you may queue now (${fmt(runsLeft)}).`;
      out.classList.add("over");
    } else if (cost > stepsLeft) {
      text += ` That is over the ${fmt(stepsLeft)} steps you have left today.`;
      out.classList.add("over");
    }
    out.textContent = text;
  }

  // One click, one submission: a double click queued the runs twice and charged both to the quota. The button
  // comes back when the page is shown again from the browser's back-forward cache.
  const form = config.form;
  const button = form && form.querySelector("button[type=submit]");
  if (form && button) {
    form.addEventListener("submit", () => {
      button.disabled = true;
      button.textContent = "Submitting…";
    });
    window.addEventListener("pageshow", () => {
      button.disabled = false;
      button.textContent = "Submit";
    });
  }

  config.addEventListener("change", update);
  env.addEventListener("change", update);
  seeds.addEventListener("input", update);
  update();
})();
