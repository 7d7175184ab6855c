// The agent screen: look a customer up, show value and the next best action with its script,
// record the outcome with one click. The key is kept in this page's memory only.
"use strict";
(function () {
  let key = "";
  let interaction = null;
  const $ = (id) => document.getElementById(id);
  const money = (v) => (v === null || v === undefined) ? "-" :
    Number(v).toLocaleString(undefined, {minimumFractionDigits: 2, maximumFractionDigits: 2});
  const say = (text, error) => {
    $("message").textContent = text;
    $("message").className = error ? "error" : "";
  };

  async function call(method, path, body) {
    const response = await fetch(path, {
      method: method,
      headers: Object.assign({"Authorization": "Bearer " + key},
                             body ? {"Content-Type": "application/json"} : {}),
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const detail = data.problems ? data.problems.map((p) => p.field + ": " + p.message)
        .join("; ") : (data.error || response.statusText);
      throw new Error(response.status + " " + detail);
    }
    return data;
  }

  $("key-form").addEventListener("submit", (e) => {
    e.preventDefault();
    key = $("key").value.trim();
    $("key").value = "";
    $("key-state").textContent = key ? "key set" : "no key yet";
    channels();
  });

  async function channels() {
    try {
      const ready = await call("GET", "/ready");
      const select = $("channel");
      const current = select.value;
      select.replaceChildren(new Option("(any)", ""));
      for (const ch of ready.channels || []) {
        select.add(new Option(ch, ch, false, ch === current));
      }
    } catch (err) {
      say(err.message, true);
    }
  }

  $("lookup-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const id = $("customer").value.trim();
    $("recorded").textContent = "";
    $("customer-card").hidden = true;
    $("action-card").hidden = true;
    if (!key) { say("Enter the service key first.", true); return; }
    say("Looking up " + id + " ...");
    try {
      const path = "/v1/customers/" + encodeURIComponent(id);
      const profile = await call("GET", path);
      const channel = $("channel").value || null;
      const nba = await call("POST", path + "/next-best-action", {channel: channel});
      show(profile, nba);
      say("");
    } catch (err) {
      say(err.message.startsWith("404") ? "No customer " + id + "." : err.message, true);
    }
  });

  function show(profile, nba) {
    interaction = nba.interaction_id;
    $("who").textContent = profile.customer_id;
    $("total-value").textContent = money(profile.value.total_value);
    $("historic-value").textContent = money(profile.value.historic_value);
    $("potential-value").textContent = money(profile.value.potential_value);
    $("influence-value").textContent = money(profile.value.influence_value);
    $("tier").textContent = profile.value_tier || "-";
    $("stage").textContent = profile.lifecycle_stage || "-";
    $("churn-risk").textContent = profile.churn_risk === null ? "-" :
      (100 * profile.churn_risk).toFixed(0) + "%";
    // a booked cancellation (subscriptions): shown only when the contract's end is known
    const ends = profile.days_to_contract_end;
    $("contract-end-label").hidden = $("contract-end").hidden = ends === null;
    $("contract-end").textContent = ends === null ? "" :
      (ends === 0 ? "today" : "in " + ends + (ends === 1 ? " day" : " days"));
    // the script of the action to give, never of one withheld (holdout, not on this channel,
    // blocked by a contact policy, no consent)
    const d = nba.decision;
    const given = d.action === "no_action" ? null :
      nba.actions.find((a) => a.policy_id === d.policy_id);
    $("action").textContent = d.action;
    $("offer").textContent = d.offer || "-";
    $("service-level").textContent = d.service_level;
    $("status").textContent = d.status ?
      d.status + (d.status_reason ? ": " + d.status_reason : "") :
      "not in the run's action list";
    $("script").textContent = given ? given.talking_points : "No action: " + d.reason;
    $("why").textContent = given ? d.reason : "";
    const others = $("others");
    others.replaceChildren();
    for (const item of nba.actions.slice(1).concat(nba.not_eligible)) {
      const li = document.createElement("li");
      li.textContent = item.policy_id + " (" + item.action + "): " + item.why;
      others.appendChild(li);
    }
    for (const b of document.querySelectorAll(".outcomes button")) { b.disabled = false; }
    $("customer-card").hidden = false;
    $("action-card").hidden = false;
  }

  for (const button of document.querySelectorAll(".outcomes button")) {
    button.addEventListener("click", async () => {
      if (!interaction) { return; }
      const outcome = button.dataset.outcome;
      try {
        await call("POST", "/v1/interactions/" + interaction + "/response", {outcome: outcome});
        $("recorded").textContent = "Recorded: " + outcome;
        for (const b of document.querySelectorAll(".outcomes button")) { b.disabled = true; }
      } catch (err) {
        $("recorded").textContent = "Not recorded: " + err.message;
      }
    });
  }
})();
