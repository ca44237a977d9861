// The week calendar opens at today's section (the desk's usual question), unless a day was asked for.
document.addEventListener("DOMContentLoaded", () => {
  const today = document.querySelector(".cal-day.today");
  if (today && !window.location.hash) {
    today.scrollIntoView({ block: "start" });
  }
});
