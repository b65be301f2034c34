// Small behaviours for the portal's pages. Loaded as a file so that the CSP needs no inline script.
(function () {
  "use strict";

  function copy(text, button) {
    navigator.clipboard.writeText(text).then(function () {
      const label = button.textContent;
      button.textContent = document.body.getAttribute("data-copied") || "Copied";  // (base.html's, translated)
      setTimeout(function () { button.textContent = label; }, 1500);
    });
  }

  document.addEventListener("click", function (event) {
    const button = event.target.closest(
      "[data-copy-target], [data-copy-text], [data-print], [data-add-row], [data-download-csv]"
    );
    if (!button) return;
    if (button.hasAttribute("data-copy-text")) copy(button.getAttribute("data-copy-text"), button);
    if (button.hasAttribute("data-copy-target")) {
      const source = document.querySelector(button.getAttribute("data-copy-target"));
      if (source) copy(shownText(source), button);
    }
    if (button.hasAttribute("data-print")) window.print();
    if (button.hasAttribute("data-add-row")) addUserRow();
    if (button.hasAttribute("data-download-csv")) downloadCsv(button);
  });

  // A secret is taken exactly as issued: a typed password may begin or end with spaces (ASVS 5.0 6.2.8), which
  // innerText and trim() would drop. Other text is taken as the page renders it (a list, one item per line).
  function shownText(element) {
    return element.hasAttribute("data-secret") ? element.textContent : element.innerText.trim();
  }

  // The CSV is built here from what the page already shows, so no second request ever carries the secret.
  function downloadCsv(button) {
    const sheets = document.querySelectorAll("[data-delivery-sheet]");
    let rows;
    if (sheets.length) {
      rows = [["User name", "Logon name", "Logon link", "Initial password", "AccessKey ID", "AccessKey Secret"]];
      sheets.forEach(function (sheet) {
        const field = function (name) {
          const element = sheet.querySelector('[data-field="' + name + '"]');
          return element ? shownText(element) : "";
        };
        rows.push([
          csvCell(sheet.getAttribute("data-delivery-sheet")), csvCell(field("logon-name")),
          csvCell(field("logon-link")), secretCell(field("password")), csvCell(field("access-key-id")),
          secretCell(field("access-key-secret")),
        ]);
      });
    } else {
      rows = [
        ["AccessKey ID", "AccessKey Secret"],
        [csvCell(shownText(document.getElementById("access-key-id"))),
          secretCell(shownText(document.getElementById("access-key-secret")))],
      ];
    }
    const csv = rows.map(function (row) { return row.join(","); }).join("\r\n") + "\r\n";
    const url = URL.createObjectURL(new Blob([csv], { type: "text/csv" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = button.getAttribute("data-filename") || "AccessKey.csv";
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
  }

  function csvCell(value) {
    // A cell starting with = + - @ would run as a formula in a spreadsheet (CSV injection).
    return quoted(/^[=+\-@]/.test(value) ? "'" + value : value);
  }

  function secretCell(value) {
    // A secret is written exactly as issued: a mark in front would change it (generated passwords never
    // start with a formula character; a typed one is its administrator's own).
    return quoted(value);
  }

  function quoted(value) {
    // Quoted also when it begins or ends with a space, which some spreadsheets would otherwise trim.
    return /[",\r\n]|^\s|\s$/.test(value) ? '"' + value.replace(/"/g, '""') + '"' : value;
  }


  // The claim link carries its code in the fragment (never sent to a server); move it into the form and
  // out of the address bar and the history.
  const claimCode = document.querySelector("[data-claim-code]");
  if (claimCode && window.location.hash.length > 1) {
    claimCode.value = decodeURIComponent(window.location.hash.slice(1));
    history.replaceState(null, "", window.location.pathname);
  }

  // Choosing a packet to email suggests its user's address; so does the packet chosen when the page opens.
  // Another packet replaces the address (or empties it), so that it cannot go to the previous user's.
  function suggestEmail(select, onlyIntoEmpty) {
    const target = document.querySelector(select.getAttribute("data-fills-email"));
    const option = select.options[select.selectedIndex];
    if (!target || !option || (onlyIntoEmpty && target.value)) return;
    target.value = option.getAttribute("data-email") || "";
  }
  document.querySelectorAll("[data-fills-email]").forEach(function (select) { suggestEmail(select, true); });
  document.addEventListener("change", function (event) {
    const select = event.target.closest("[data-fills-email]");
    if (select) suggestEmail(select, false);
  });

  // A control that stays disabled until its checkbox is ticked ("I have saved the AccessKey secret").
  document.addEventListener("change", function (event) {
    const box = event.target.closest("[data-enables]");
    if (!box) return;
    const target = document.querySelector(box.getAttribute("data-enables"));
    if (!target) return;
    target.classList.toggle("disabled", !box.checked);
    target.setAttribute("aria-disabled", String(!box.checked));
    if (box.checked) target.removeAttribute("tabindex");
    else target.setAttribute("tabindex", "-1"); // out of the keyboard's reach too, not only the mouse's
  });

  // A form that issues secrets is sent once: a second click (or Enter, then a click) while the first submission
  // is on its way does nothing. The server makes the same rule with the form's token; this only spares the work.
  document.addEventListener("submit", function (event) {
    const form = event.target.closest("form[data-submit-once]");
    if (!form) return;
    if (form.hasAttribute("data-submitting")) {
      event.preventDefault();
      return;
    }
    form.setAttribute("data-submitting", "");
    const token = form.querySelector("input[name=form_token]");
    if (token) sessionStorage.setItem(submittedKey(form), token.value);
    // Disabled after this event, so that the clicked button's own name and value still go with the form.
    setTimeout(function () {
      form.querySelectorAll("button[type=submit], input[type=submit]").forEach(function (button) {
        button.disabled = true;
        button.setAttribute("aria-busy", "true");
      });
    }, 0);
  });
  // Back to a form already sent from this tab: when the browser fetched the page again (rather than keeping it),
  // the form gets back the token it was sent with, so that sending it again is the same submission — the server
  // then does nothing new and shows the first submission's page — and a note says so.
  function submittedKey(form) {
    return "submitted-form:" + (form.getAttribute("action") || window.location.pathname);
  }
  const navigation = performance.getEntriesByType("navigation")[0];
  if (navigation && navigation.type === "back_forward") {
    document.querySelectorAll("form[data-submit-once]").forEach(function (form) {
      const sent = sessionStorage.getItem(submittedKey(form));
      const token = form.querySelector("input[name=form_token]");
      if (!sent || !token) return;
      token.value = sent;
      const note = form.querySelector("[data-resubmit-note]");
      if (note) note.hidden = false;
    });
  }

  // Coming back to the page (the back button, or the browser's page cache) makes the form usable again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-submitting]").forEach(function (form) {
      form.removeAttribute("data-submitting");
      form.querySelectorAll("[aria-busy=true]").forEach(function (button) {
        button.disabled = false;
        button.removeAttribute("aria-busy");
      });
    });
  });

  // A passkey registered (django-otp-webauthn's script says so with an event): back to the page that lists it.
  document.addEventListener("otp_webauthn.register_complete", function (event) {
    const done = event.target.closest("[data-passkey-done]");
    if (done) window.location.assign(done.getAttribute("data-passkey-done"));
  });

  // "Use a passkey" beside every code field a passkey may answer (data-passkey), for a signed-in person who has one
  // (the portal says so, with django-otp-webauthn's configuration). The library's script drives one hidden button
  // (accounts/_passkey_offer.html); each offered button presses it for its own form. The passkey's one-time code,
  // which the server sends in a header, then goes in that form's code field, and the form is sent.
  let passkeyTarget = null;

  function loadScript(src, module) {
    return new Promise(function (resolve, reject) {
      const script = document.createElement("script");
      if (module) script.type = "module";
      script.src = src;
      script.onload = resolve;
      script.onerror = reject;
      document.body.appendChild(script);
    });
  }

  function offerPasskeys() {
    const fields = document.querySelectorAll("input[data-passkey]:not([disabled])");
    const place = document.getElementById("passkey-confirmation");
    const offer = document.getElementById("passkey-offer");
    if (!fields.length || !place || !offer || !window.PublicKeyCredential) return;
    if (document.getElementById("otp_webauthn_config")) return; // (a page with a ceremony of its own: sign-in)
    fetch(place.getAttribute("data-options"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.status === 200 ? response.json() : null; })
      .then(function (options) {
        if (!options) return;
        const config = document.createElement("script");
        config.type = "application/json";
        config.id = "otp_webauthn_config";
        config.textContent = JSON.stringify(options.configuration);
        place.appendChild(config);
        return loadScript(options.texts, false)
          .then(function () { return loadScript(options.script, true); })
          .then(function () { return libraryButton(place); })
          .then(function () {
            // Offered only once the library's button is there to press.
            fields.forEach(function (field) {
              const item = offer.content.firstElementChild.cloneNode(true);
              (field.closest(".mb-3") || field).after(item);
              item.querySelector("button").addEventListener("click", function () {
                const button = document.getElementById("passkey-verification-button");
                if (!button || button.disabled) return;
                passkeyTarget = { field: field, item: item };
                item.querySelector("[data-passkey-status]").textContent = "";
                button.click();
              });
            });
          });
      })
      .catch(function () { /* no passkey offered: the code field works as ever */ });
  }
  offerPasskeys();

  // django-otp-webauthn's button, which its script makes when the browser can use passkeys (never, where it cannot).
  function libraryButton(place) {
    return new Promise(function (resolve) {
      const made = function () { return document.getElementById("passkey-verification-button"); };
      if (made()) return resolve(made());
      const watch = new MutationObserver(function () {
        if (made()) { watch.disconnect(); resolve(made()); }
      });
      watch.observe(place, { childList: true, subtree: true });
    });
  }

  // What the offer says while the passkey works (its template's words, in the page's language).
  function passkeyStatus(said, busy) {
    if (!passkeyTarget) return;
    const item = passkeyTarget.item;
    item.querySelector("[data-passkey-status]").textContent = item.getAttribute("data-" + said) || said;
    document.querySelectorAll("[data-passkey-offer] button").forEach(function (button) { button.disabled = busy; });
  }

  document.addEventListener("otp_webauthn.verification_start", function () {
    passkeyStatus("waiting", true);
  });

  document.addEventListener("otp_webauthn.verification_failed", function () {
    // The library's own words (cancelled, not allowed …), from its hidden status element.
    const said = document.getElementById("passkey-verification-status-message");
    passkeyStatus((said && said.textContent) || "failed", false);
  });

  document.addEventListener("otp_webauthn.verification_complete", function (event) {
    const response = event.detail && event.detail.response;
    const code = response && response.headers.get("X-Portal-Passkey-Code");
    if (!passkeyTarget || !code) return;
    const form = passkeyTarget.field.form;
    passkeyStatus("sending", true);
    passkeyTarget.field.value = code;
    form.requestSubmit();
  });

  // The language picker: choosing a language is enough (its button stays for a browser without script).
  document.querySelectorAll("[data-hidden-with-script]").forEach(function (button) { button.hidden = true; });
  document.addEventListener("change", function (event) {
    const choice = event.target.closest("[data-submit-on-change]");
    if (choice && choice.form) choice.form.requestSubmit();
  });

  // The Users table: "All on page" ticks or clears every row's box.
  document.addEventListener("change", function (event) {
    const box = event.target.closest("[data-select-all]");
    if (!box) return;
    document.querySelectorAll(box.getAttribute("data-select-all")).forEach(function (row) {
      row.checked = box.checked;
    });
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
