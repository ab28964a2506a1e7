// Condition values in the admin: when another question or operator is chosen, draw the value's
// control for it (Yes/No, the answers by label, a number with its unit) and show only the
// operators that fit. The server draws the same controls and checks every value without this.
(function () {
  "use strict";

  var FITTING = {
    number: ["gt", "ge", "lt", "le", "eq", "ne"],
    choice: ["eq", "ne", "in", "not_in"],
    boolean: ["eq", "ne"]
  };

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text) { node.textContent = text; }
    return node;
  }

  function currentTexts(holder) {
    var texts = [];
    holder.querySelectorAll("input, select").forEach(function (input) {
      if (input.tagName === "SELECT") {
        if (input.value) { texts.push(input.value); }
      } else if (input.type === "radio" || input.type === "checkbox") {
        if (input.checked) { texts.push(input.value); }
      } else if (input.value) {
        texts.push(input.value);
      }
    });
    return texts;
  }

  function choices(holder, name, id, options, texts, kind) {
    var group = el("span", { "class": "pathway-choices", role: "group" });
    options.forEach(function (option, index) {
      var label = el("label");
      var input = el("input", { type: kind, name: name, id: id + "_" + index, value: option[0] });
      if (texts.indexOf(option[0]) !== -1) { input.checked = true; }
      label.appendChild(input);
      label.appendChild(document.createTextNode(" " + option[1]));
      group.appendChild(label);
    });
    holder.appendChild(group);
  }

  function draw(holder, variable, op, name) {
    var id = "id_" + name;
    var texts = currentTexts(holder);
    holder.textContent = "";
    if (!variable) {
      holder.appendChild(el("input", { type: "text", name: name, id: id, "class": "vTextField" }));
      holder.appendChild(el("span", { "class": "help" }, "Choose the question first."));
    } else if (variable.kind === "boolean") {
      choices(holder, name, id, [["true", "Yes"], ["false", "No"]], texts, "radio");
    } else if (variable.kind === "choice" && (op === "in" || op === "not_in")) {
      choices(holder, name, id, variable.choices, texts, "checkbox");
    } else if (variable.kind === "choice") {
      var select = el("select", { name: name, id: id });
      select.appendChild(el("option", { value: "" }, "Choose…"));
      variable.choices.forEach(function (option) {
        var item = el("option", { value: option[0] }, option[1]);
        if (texts.indexOf(option[0]) !== -1) { item.selected = true; }
        select.appendChild(item);
      });
      holder.appendChild(select);
    } else {
      var number = el("input", {
        type: "text", inputmode: "decimal", name: name, id: id, size: "8", "class": "pathway-number",
        "aria-label": variable.unit ? variable.label + " in " + variable.unit : variable.label
      });
      var typed = texts.length === 1 && /^[0-9.,\s-]+$/.test(texts[0]) ? texts[0] : "";
      number.value = typed;
      holder.appendChild(number);
      if (variable.unit) {
        holder.appendChild(document.createTextNode(" "));
        holder.appendChild(el("span", { "class": "pathway-unit" }, variable.unit));
      }
    }
  }

  function fitOperators(select, kind) {
    if (!select) { return; }
    var fitting = FITTING[kind];
    Array.prototype.forEach.call(select.options, function (option) {
      option.hidden = Boolean(fitting && option.value && fitting.indexOf(option.value) === -1);
    });
    // An operator that no longer fits is kept aside and comes back when its kind does.
    var wanted = select.getAttribute("data-wanted");
    if (wanted && fitting && fitting.indexOf(wanted) !== -1) {
      select.value = wanted;
      select.removeAttribute("data-wanted");
    } else if (fitting && select.selectedOptions.length && select.selectedOptions[0].hidden) {
      if (!wanted) { select.setAttribute("data-wanted", select.value); }
      select.value = fitting[0];
    }
  }

  function row(target) {
    return target.closest("tr, .form-row, fieldset");
  }

  function refresh(container) {
    var holder = container.querySelector("[data-value-control]");
    var variableSelect = container.querySelector("select[name$='variable']");
    var operator = container.querySelector("select[data-operator]");
    if (!holder || !variableSelect) { return; }
    var catalog = JSON.parse(holder.getAttribute("data-variables") || "{}");
    var variable = catalog[variableSelect.value];
    fitOperators(operator, variable && variable.kind);
    // Named after the row's question field: a row added in the page was renamed from __prefix__.
    draw(holder, variable, operator ? operator.value : "", variableSelect.name.replace(/variable$/, "value"));
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!(target instanceof HTMLSelectElement)) { return; }
    if (!/variable$/.test(target.name) && !target.hasAttribute("data-operator")) { return; }
    if (target.hasAttribute("data-operator")) { target.removeAttribute("data-wanted"); }
    var container = row(target);
    if (container && container.querySelector("[data-value-control]")) { refresh(container); }
  });
})();
