// Course plan form: highlight the deviation-reason field while the plan is outside the clinic protocol.
(function () {
  "use strict";
  const form = document.querySelector("form.course-plan");
  if (!form) return;
  const sessions = form.querySelector("[name=planned_sessions]");
  const interval = form.querySelector("[name=interval_days]");
  const reason = form.querySelector("[name=deviation_reason]");
  const warning = document.getElementById("deviation-warning");
  if (!sessions || !interval || !reason) return;
  const limits = {
    minSessions: Number(form.dataset.minSessions),
    maxSessions: Number(form.dataset.maxSessions),
    minInterval: Number(form.dataset.minInterval),
    maxInterval: Number(form.dataset.maxInterval),
  };

  function outside() {
    const s = Number(sessions.value);
    const i = Number(interval.value);
    return (
      (sessions.value !== "" && (s < limits.minSessions || s > limits.maxSessions)) ||
      (interval.value !== "" && (i < limits.minInterval || i > limits.maxInterval))
    );
  }

  function update() {
    const deviates = outside();
    reason.required = deviates;
    reason.classList.toggle("border-warning", deviates);
    if (warning) warning.classList.toggle("alert-danger", deviates && reason.value.trim() === "");
  }

  [sessions, interval, reason].forEach((input) => input.addEventListener("input", update));
  update();
})();
