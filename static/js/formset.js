// Add and remove formset rows in place. Without this script the same buttons post the form back
// ("Add a line") and the "Remove" checkboxes do the removing, so the page works either way.
(function () {
  "use strict";
  function wire(row) {
    var del = row.querySelector('input[name$="-DELETE"]');
    var button = row.querySelector("[data-formset-remove]");
    if (!del || !button) return;
    del.closest(".form-check").hidden = true;
    button.hidden = false;
    if (del.checked) row.hidden = true;
    button.addEventListener("click", function () {
      del.checked = true;
      row.hidden = true;
    });
  }
  document.querySelectorAll("[data-formset]").forEach(function (root) {
    var prefix = root.dataset.formset;
    var total = root.querySelector("#id_" + prefix + "-TOTAL_FORMS");
    var body = root.querySelector("[data-formset-body]");
    var template = root.querySelector("template[data-formset-template]");
    var add = root.querySelector("[data-formset-add]");
    body.querySelectorAll("[data-formset-row]").forEach(wire);
    if (!add || !template) return;
    add.addEventListener("click", function (event) {
      event.preventDefault();
      var index = parseInt(total.value, 10);
      body.insertAdjacentHTML("beforeend", template.innerHTML.replace(/__prefix__/g, String(index)));
      total.value = String(index + 1);
      var row = body.lastElementChild;
      wire(row);
      var first = row.querySelector("select, input:not([type=hidden])");
      if (first) first.focus();
    });
  });
})();
