// The accounts page: add an account (the server tests its credentials first), test, remove.
"use strict";

(function () {
  const { api, describeError, say, carry, sayCarried } = window.dbsnooze;
  const form = document.getElementById("account-form");
  const method = document.getElementById("a-method");
  const provider = document.getElementById("a-provider");
  const status = document.getElementById("account-form-status");
  const message = document.getElementById("accounts-message");
  const submit = document.getElementById("account-submit");

  // Regions or projects, and the auth methods, follow the provider.
  function showProviderFields() {
    for (const part of form.querySelectorAll(".field[data-provider]")) {
      const on = part.dataset.provider === provider.value;
      part.hidden = !on;
      for (const input of part.querySelectorAll("input")) input.disabled = !on;
    }
    for (const option of method.options) {
      const on = option.dataset.provider === provider.value;
      option.hidden = !on;
      option.disabled = !on;
    }
    if (method.selectedOptions[0].disabled) {
      method.value = provider.value === "gcp" ? "service_account" : "static_keys";
    }
    showMethodFields();
  }

  function showMethodFields() {
    for (const set of form.querySelectorAll(".auth-fields")) {
      const on = set.dataset.method === method.value;
      set.hidden = !on;
      set.disabled = !on;
    }
  }

  function value(name) {
    const field = form.elements.namedItem(name);
    return field && !field.disabled ? field.value.trim() : "";
  }

  // A key file's text, read here: the key travels once, inside the request body.
  async function keyText(name) {
    const field = form.elements.namedItem(name);
    const file = field && !field.disabled && field.files[0];
    return file ? await file.text() : "";
  }

  async function authBody() {
    const auth = { method: method.value };
    const fields = {
      profile: ["profile"],
      static_keys: ["access_key_id", "secret_access_key", "session_token"],
      assume_role: ["role_arn", "external_id", "source_profile"],
      impersonate: ["target_service_account"],
    }[method.value] || [];
    for (const name of fields) {
      if (value(name)) auth[name] = value(name);
    }
    const key = await keyText(method.value === "impersonate" ? "source_key_file" : "key_file");
    if (key) auth.service_account_json = key;
    return auth;
  }

  function list(name) {
    return value(name).split(/[\s,]+/).filter(Boolean);
  }

  async function requestBody() {
    const body = { name: value("name"), provider: provider.value, auth: await authBody() };
    if (provider.value === "gcp") body.projects = list("projects");
    else body.regions = list("regions");
    if (value("endpoint_url")) body.endpoint_url = value("endpoint_url");
    return body;
  }

  function clearSecrets() {
    for (const field of form.querySelectorAll('input[type="password"], input[type="file"]')) {
      field.value = "";
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!form.checkValidity()) {
      form.reportValidity();
      return;
    }
    submit.disabled = true;
    say(status, "Testing the credentials against the cloud…", "info");
    const result = await api("POST", "/api/v1/cloud-accounts", await requestBody());
    submit.disabled = false;
    clearSecrets();
    if (!result.ok) {
      say(status, "Not added. " + describeError(result), "error");
      return;
    }
    say(status, "Account " + result.data.name + " added. Looking for its databases…", "ok");
    const found = await api("POST", "/api/v1/discover?account=" + result.data.id);
    if (!found.ok) {
      say(status, "Account " + result.data.name + " added, but discovery failed: " + describeError(found), "error");
      return;
    }
    const totals = found.data.totals;
    const problems = totals.errors.map((e) => e.region + ": " + e.error).join("; ");
    // Listed in part (e.g. clusters refused): the regions say so (each names its region), else
    // the credentials test did.
    const regionWarnings = totals.warnings.map((w) => w.warning);
    const warnings = (regionWarnings.length ? regionWarnings : result.data.warnings).join("; ");
    const kind = problems ? "error" : warnings ? "warn" : "ok";
    const text = "Account " + result.data.name + " added: " + totals.seen + " database instance(s) found" +
      (problems ? ". Some regions failed: " + problems : "") + (warnings ? ". " + warnings : ".");
    say(status, text, kind);
    // The reload shows the new row; what went wrong or only in part stays on the page after it.
    if (kind !== "ok") carry(text, kind);
    setTimeout(() => window.location.reload(), 1200);
  });

  document.addEventListener("click", async (event) => {
    const test = event.target.closest(".test-account");
    const remove = event.target.closest(".remove-account");
    if (test) await testAccount(test);
    if (remove) await removeAccount(remove);
  });

  async function testAccount(button) {
    const row = button.closest("tr");
    button.disabled = true;
    say(message, "Testing " + row.dataset.name + "…", "info");
    const result = await api("POST", "/api/v1/cloud-accounts/" + button.dataset.accountId + "/test");
    button.disabled = false;
    if (!result.ok) {
      say(message, "Could not test " + row.dataset.name + ": " + describeError(result), "error");
    } else if (result.data.ok && result.data.warnings.length) {
      say(message, "The credentials of " + row.dataset.name + " work, in part: " +
        result.data.warnings.join("; "), "warn");
    } else if (result.data.ok) {
      say(message, "The credentials of " + row.dataset.name + " work.", "ok");
    } else {
      say(message, "The credentials of " + row.dataset.name + " failed: " + result.data.error, "error");
    }
  }

  async function removeAccount(button) {
    const name = button.dataset.name;
    if (!window.confirm("Remove the account " + name + "? Its instances and their history are deleted from dbsnooze (nothing changes in the cloud).")) {
      return;
    }
    button.disabled = true;
    const result = await api("DELETE", "/api/v1/cloud-accounts/" + button.dataset.accountId);
    if (!result.ok) {
      button.disabled = false;
      say(message, "Could not remove " + name + ": " + describeError(result), "error");
      return;
    }
    say(message, "Account " + name + " removed.", "ok");
    setTimeout(() => window.location.reload(), 600);
  }

  method.addEventListener("change", showMethodFields);
  provider.addEventListener("change", showProviderFields);
  showProviderFields();
  sayCarried(message);
})();
