/* Copy buttons: <button data-copy-target="textarea-id" hidden> is shown (it needs script) and
   copies the target's text to the clipboard, saying so for a moment. */
(function () {
  "use strict";
  document.querySelectorAll("button[data-copy-target]").forEach(function (button) {
    var target = document.getElementById(button.getAttribute("data-copy-target"));
    if (!target || !navigator.clipboard) return;
    var label = button.textContent;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(target.value).then(function () {
        button.textContent = button.getAttribute("data-copied-text") || label;
        window.setTimeout(function () { button.textContent = label; }, 2000);
      });
    });
  });
})();
