// Small behaviours for the portal's pages. Loaded as a file so that the CSP needs no inline script.
(function () {
  "use strict";

  function copy(text, button) {
    navigator.clipboard.writeText(text).then(function () {
      const label = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 1500);
    });
  }

  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-copy-target], [data-copy-text], [data-print], [data-add-row]");
    if (!button) return;
    if (button.hasAttribute("data-copy-text")) copy(button.getAttribute("data-copy-text"), button);
    if (button.hasAttribute("data-copy-target")) {
      const source = document.querySelector(button.getAttribute("data-copy-target"));
      if (source) copy(source.innerText.trim(), button);
    }
    if (button.hasAttribute("data-print")) window.print();
    if (button.hasAttribute("data-add-row")) addUserRow();
  });

  function addUserRow() {
    const template = document.getElementById("empty-user-row");
    const total = document.querySelector("input[name$='-TOTAL_FORMS']");
    const max = document.querySelector("input[name$='-MAX_NUM_FORMS']");
    const count = parseInt(total.value, 10);
    if (count >= parseInt(max.value, 10)) return;
    const html = template.innerHTML.replace(/__prefix__/g, String(count));
    document.getElementById("user-rows").insertAdjacentHTML("beforeend", html);
    total.value = String(count + 1);
  }
})();
