// Submit form: what this submission costs (seeds × the environment's budget) beside the user's allowance, as they
// choose, so a submission over a quota is seen before it is sent. The server checks the quotas again on submit.
(function () {
  "use strict";
  const box = document.getElementById("allowance");
  const out = document.getElementById("submission-cost");
  const budgetsNode = document.getElementById("env-budgets");
  const env = document.querySelector("select[name=environment]");
  const seeds = document.querySelector("input[name=seeds]");
  if (!box || !out || !budgetsNode || !env || !seeds) return;
  const budgets = JSON.parse(budgetsNode.textContent);
  const stepsLeft = Number(box.dataset.stepsLeft);
  const runsLeft = Number(box.dataset.runsLeft);
  const fmt = (n) => n.toLocaleString("en-US");

  function update() {
    const budget = budgets[env.value];
    const n = Number.parseInt(seeds.value, 10);
    out.classList.remove("over");
    if (budget === undefined || !Number.isInteger(n) || n < 1) {
      out.textContent = "";
      return;
    }
    const cost = n * budget;
    let text = `This submission: ${fmt(n)} run${n === 1 ? "" : "s"} × ${fmt(budget)} steps = ${fmt(cost)} steps.`;
    if (n > runsLeft) {
      text += ` That is more runs than you may queue now (${fmt(runsLeft)}).`;
      out.classList.add("over");
    } else if (cost > stepsLeft) {
      text += ` That is over the ${fmt(stepsLeft)} steps you have left today.`;
      out.classList.add("over");
    }
    out.textContent = text;
  }

  env.addEventListener("change", update);
  seeds.addEventListener("input", update);
  update();
})();
