// Aftercare handout: the print button (no inline handlers under the Content-Security-Policy).
document.querySelectorAll("[data-print-page]").forEach((button) => {
  button.addEventListener("click", () => window.print());
});
