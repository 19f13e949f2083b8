// "Print this page" on a council's comparison. Without JavaScript the page says to use the
// browser's print command instead; with it, the link takes that sentence's place.
const link = document.querySelector("[data-print-page]");
if (link && typeof window.print === "function") {
  const box = link.closest(".app-print-link");
  box.querySelector(".app-print-link__fallback").hidden = true;
  link.closest(".app-print-link__button").hidden = false;
  link.addEventListener("click", (event) => {
    event.preventDefault();
    window.print();
  });
}
