/*
 * Confirmation before an action that cannot be undone, or not easily (the DSFR modal pattern).
 *
 * A form, or one of its submit buttons, that carries
 *   data-confirm-title   the question, the dialog's title
 *   data-confirm-body    what will happen (the consequence)
 *   data-confirm-action  the label of the confirming button
 * opens a modal <dialog> before it is sent. Escape or « Annuler » closes it and gives the focus back to what opened
 * it; the confirming button sends the form with `confirmed=1`, which the server reads to skip its own
 * confirmation page. Without JavaScript the form is sent as it is and the server asks, where it does.
 */
(function () {
  "use strict";

  var dialog = null;
  var pending = null; // {form, submitter, trigger}

  function build() {
    dialog = document.createElement("dialog");
    dialog.className = "confirm-dialog";
    dialog.id = "confirm-dialog";
    dialog.setAttribute("aria-modal", "true");
    dialog.setAttribute("aria-labelledby", "confirm-dialog-title");
    dialog.setAttribute("aria-describedby", "confirm-dialog-body");

    var title = document.createElement("h2");
    title.id = "confirm-dialog-title";
    title.className = "h5 confirm-dialog-title";
    var body = document.createElement("p");
    body.id = "confirm-dialog-body";
    body.className = "confirm-dialog-body";

    var actions = document.createElement("div");
    actions.className = "confirm-dialog-actions";
    var cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "btn btn-outline-secondary";
    cancel.id = "confirm-dialog-cancel";
    cancel.textContent = "Annuler";
    var ok = document.createElement("button");
    ok.type = "button";
    ok.className = "btn btn-danger";
    ok.id = "confirm-dialog-ok";
    actions.appendChild(cancel);
    actions.appendChild(ok);

    dialog.appendChild(title);
    dialog.appendChild(body);
    dialog.appendChild(actions);
    document.body.appendChild(dialog);

    cancel.addEventListener("click", function () {
      dialog.close("cancel");
    });
    ok.addEventListener("click", confirmPending);
    // Escape closes a modal <dialog> natively (a « cancel » event, then « close »).
    dialog.addEventListener("close", function () {
      if (dialog.returnValue !== "confirm") {
        restoreFocus();
      }
    });
  }

  function restoreFocus() {
    var trigger = pending && pending.trigger;
    pending = null;
    if (trigger && typeof trigger.focus === "function") {
      trigger.focus();
    }
  }

  function setting(form, submitter, name) {
    if (submitter && submitter.hasAttribute("data-confirm-" + name)) {
      return submitter.getAttribute("data-confirm-" + name);
    }
    return form.getAttribute("data-confirm-" + name);
  }

  function wantsConfirmation(form, submitter) {
    return (
      (submitter && submitter.hasAttribute("data-confirm-title")) ||
      form.hasAttribute("data-confirm-title")
    );
  }

  function open(form, submitter) {
    if (!dialog) {
      build();
    }
    pending = {
      form: form,
      submitter: submitter,
      trigger: submitter || document.activeElement,
    };
    dialog.querySelector("#confirm-dialog-title").textContent = setting(form, submitter, "title");
    dialog.querySelector("#confirm-dialog-body").textContent = setting(form, submitter, "body") || "";
    var ok = dialog.querySelector("#confirm-dialog-ok");
    ok.textContent = setting(form, submitter, "action") || "Confirmer";
    ok.disabled = false;
    dialog.returnValue = "";
    dialog.showModal();
    // The safe choice first: a keyboard user who presses Enter at once cancels.
    dialog.querySelector("#confirm-dialog-cancel").focus();
  }

  function confirmPending() {
    if (!pending) {
      return;
    }
    var form = pending.form;
    var submitter = pending.submitter;
    dialog.querySelector("#confirm-dialog-ok").disabled = true; // one click sends once
    dialog.close("confirm");
    var flag = document.createElement("input");
    flag.type = "hidden";
    flag.name = "confirmed";
    flag.value = "1";
    form.appendChild(flag);
    pending = null;
    form.setAttribute("data-confirmed", "1");
    if (typeof form.requestSubmit === "function") {
      // The submit event runs again (other scripts see it), with the button's own name and value.
      form.requestSubmit(submitter || undefined);
      // The form's data were taken during the call: if a script stopped the sending, the next one asks again.
      form.removeAttribute("data-confirmed");
      form.removeChild(flag);
      return;
    }
    if (submitter && submitter.name) {
      // form.submit() would drop the button's own name and value (« action=submit »).
      var pressed = document.createElement("input");
      pressed.type = "hidden";
      pressed.name = submitter.name;
      pressed.value = submitter.value;
      form.appendChild(pressed);
    }
    HTMLFormElement.prototype.submit.call(form);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || form.getAttribute("data-confirmed") === "1") {
      return;
    }
    var submitter = event.submitter || null;
    if (!wantsConfirmation(form, submitter)) {
      return;
    }
    if (typeof HTMLDialogElement !== "function") {
      return; // no <dialog>: the server's own confirmation, where it has one
    }
    event.preventDefault();
    open(form, submitter);
  });
})();
