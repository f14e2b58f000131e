// Scheduling pages: small conveniences on top of forms that work without JavaScript.
(function () {
  "use strict";

  // Calendar filters: show the chosen day or practitioner as soon as it changes.
  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    form.addEventListener("change", function () {
      form.requestSubmit();
    });
  });

  // Copy buttons (the private feed address).
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    button.addEventListener("click", function () {
      var field = document.getElementById(button.dataset.copyTarget);
      if (!field) return;
      field.select();
      if (navigator.clipboard) {
        navigator.clipboard.writeText(field.value).then(function () {
          button.textContent = "Copied";
        });
      }
    });
  });
})();
