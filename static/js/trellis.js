/* Small enhancements; every page works without this file.
   Header menus (details.menu): one open at a time, Escape closes and returns focus to the
   menu button, a click outside or moving focus out of the menu closes it. */
(function () {
  "use strict";

  function openMenus() {
    return document.querySelectorAll("details.menu[open]");
  }

  function close(menu, returnFocus) {
    menu.removeAttribute("open");
    if (returnFocus) {
      var summary = menu.querySelector("summary");
      if (summary) summary.focus();
    }
  }

  document.addEventListener("toggle", function (event) {
    var menu = event.target;
    if (!(menu instanceof HTMLDetailsElement) || !menu.classList.contains("menu") || !menu.open) return;
    openMenus().forEach(function (other) { if (other !== menu) close(other, false); });
  }, true);

  document.addEventListener("click", function (event) {
    openMenus().forEach(function (menu) { if (!menu.contains(event.target)) close(menu, false); });
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    openMenus().forEach(function (menu) { close(menu, menu.contains(document.activeElement)); });
  });

  document.addEventListener("focusout", function (event) {
    var menu = event.target.closest && event.target.closest("details.menu[open]");
    if (menu && event.relatedTarget && !menu.contains(event.relatedTarget)) close(menu, false);
  });
})();
