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

/* Main navigation on a phone: the list folds behind the "Menu" button (shown only with this
   script; without it the list is simply there). The button says whether it is open
   (aria-expanded); Escape closes it and gives the focus back to the button. On a wide screen
   the stylesheet hides the button and shows the tabs whatever the state. */
(function () {
  "use strict";
  var nav = document.getElementById("site-nav");
  var button = nav && nav.querySelector(".site-nav__toggle");
  if (!button) return;

  function setOpen(open) {
    button.setAttribute("aria-expanded", open ? "true" : "false");
    nav.classList.toggle("site-nav--open", open);
  }

  nav.classList.add("site-nav--folding");
  button.hidden = false;
  setOpen(false);
  button.addEventListener("click", function () {
    setOpen(button.getAttribute("aria-expanded") !== "true");
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || button.getAttribute("aria-expanded") !== "true") return;
    var inside = nav.contains(document.activeElement);
    setOpen(false);
    if (inside) button.focus();
  });
})();

/* Error summaries (components/error_summary.html): a form sent back with problems takes the
   view to its summary, however far down the page the form was sent from, so the person
   hears and sees what to fix. The same after an htmx swap that brings one in. */
(function () {
  "use strict";
  // A summary is revealed once: the mark tells the summaries already shown from those an
  // htmx swap has just brought in (whatever the swap's style, outerHTML included).
  var FRESH = "[data-error-summary]:not([data-error-summary-shown])";

  function revealFresh() {
    // The first new one: the form that was sent (a page shows one form's problems at a time).
    var summary = document.querySelector(FRESH);
    document.querySelectorAll(FRESH).forEach(function (each) {
      each.setAttribute("data-error-summary-shown", "");
    });
    if (!summary) return;
    summary.focus({ preventScroll: true });
    summary.scrollIntoView({ block: "start", behavior: "instant" });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", revealFresh);
  } else {
    revealFresh();
  }
  document.addEventListener("htmx:afterSettle", revealFresh);
})();

/* A picker's search box (components/picker_field.html): Enter searches, as typing does
   (htmx), instead of sending the form. Without this file, Enter presses the form's first
   Find button, which shows every picker's matches and saves nothing. */
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || !event.target.closest) return;
    var box = event.target.closest(".picker__search input[type=search]");
    if (!box) return;
    event.preventDefault();
    if (window.htmx) window.htmx.trigger(box, "search");
  });
})();

/* A picker's list is drawn again by each search, from the boxes that were checked when the
   search was sent. A box checked or cleared while the answer was on its way would be undone
   by it: then the answer is dropped and the search asked again with the boxes as they are. */
(function () {
  "use strict";
  function isPickerList(element) {
    return element && element.classList && element.classList.contains("picker__choices");
  }
  function checkedIn(list) {
    return Array.prototype.map.call(
      list.querySelectorAll("input[type=checkbox]:checked"),
      function (box) { return box.value; }
    ).sort().join("\n");
  }
  document.addEventListener("htmx:beforeRequest", function (event) {
    var list = event.detail.target;
    if (isPickerList(list)) list.setAttribute("data-sent-checked", checkedIn(list));
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    var list = event.detail.target;
    if (!isPickerList(list) || list.getAttribute("data-sent-checked") === checkedIn(list)) return;
    event.detail.shouldSwap = false;
    var box = document.querySelector('.picker__search input[aria-controls="' + list.id + '"]');
    if (box && window.htmx) window.htmx.trigger(box, "search");
  });
})();
