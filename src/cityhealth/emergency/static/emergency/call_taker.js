// The call-taker's page: every field is saved as a draft at each pause in typing, so a reload
// or a crashed browser loses nothing; location, triage and dispatch go through the JSON API.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("incident-data").textContent);
  const form = document.getElementById("call-form");
  const csrf = document.querySelector("[name=csrfmiddlewaretoken]").value;
  const saveState = document.getElementById("save-state");
  const problem = document.getElementById("problem");
  const text = data.messages;
  const lang = document.documentElement.lang === "en" ? "en" : "vi";
  let version = data.version;
  let draft = Object.assign({}, data.draft);
  let pending = {};
  let timer = null;
  let complaint = draft.complaint || "";
  let answers = Object.assign({}, draft.answers || {});

  async function api(method, url, body) {
    const response = await fetch(url, {
      method: method,
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
    const payload = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new Error(payload.detail || response.statusText);
      error.status = response.status;
      error.code = payload.code;
      throw error;
    }
    return payload;
  }

  function show(message) {
    problem.textContent = message || "";
    problem.hidden = !message;
  }

  // --- the draft -------------------------------------------------------------------------
  const draftFields = ["address", "ward", "latitude", "longitude", "walk_metres", "patients", "notes"];

  function fill() {
    for (const name of draftFields) {
      if (draft[name] !== undefined && form.elements[name]) form.elements[name].value = draft[name];
    }
    if (draft.car_reachable === false) form.elements.car_unreachable.checked = true;
  }

  async function flush() {
    timer = null;
    if (Object.keys(pending).length === 0) return;
    const fields = pending;
    pending = {};
    saveState.textContent = text.saving;
    try {
      const saved = await api("PUT", data.api + "/draft", { version: version, fields: fields });
      version = saved.version;
      draft = saved.draft;
      saveState.textContent = text.saved + " " + new Date().toLocaleTimeString();
    } catch (error) {
      if (error.code === "incident.stale_draft") {
        const fresh = await api("GET", data.api);
        version = fresh.version;
        draft = fresh.draft;
        fill();
        saveState.textContent = text.stale;
      } else {
        pending = Object.assign(fields, pending); // keep it for the next try
        saveState.textContent = text.offline;
        timer = setTimeout(flush, 3000);
      }
    }
  }

  function remember(name, value) {
    pending[name] = value;
    if (timer) clearTimeout(timer);
    timer = setTimeout(flush, 400);
  }

  form.addEventListener("input", (event) => {
    const field = event.target;
    if (draftFields.includes(field.name)) remember(field.name, field.value);
    if (field.name === "car_unreachable") remember("car_reachable", !field.checked);
  });
  window.addEventListener("beforeunload", () => { if (timer) flush(); });

  // --- location --------------------------------------------------------------------------
  document.getElementById("confirm-location").addEventListener("click", async () => {
    show("");
    const f = form.elements;
    try {
      const located = await api("POST", data.api + "/location", {
        latitude: parseFloat(f.latitude.value),
        longitude: parseFloat(f.longitude.value),
        method: "address",
        address: f.address.value,
        ward: f.ward.value,
        car_reachable: !f.car_unreachable.checked,
        walk_metres: parseInt(f.walk_metres.value || "0", 10),
        patients: parseInt(f.patients.value || "1", 10),
      });
      document.getElementById("status").textContent = located.status;
    } catch (error) {
      show(error.message);
    }
  });

  // --- triage ----------------------------------------------------------------------------
  const complaintsList = document.getElementById("complaints");
  const questionBox = document.getElementById("question");
  const outcomeBox = document.getElementById("outcome");
  const recordButton = document.getElementById("record-triage");
  let currentOptions = [];

  form.elements.complaint_search.addEventListener("input", async (event) => {
    const found = await api("GET", data.triage_api + "/complaints?q=" + encodeURIComponent(event.target.value));
    complaintsList.replaceChildren(...found.map((c, i) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = (i + 1) + ". " + c.name[lang];
      button.addEventListener("click", () => choose(c.code));
      item.append(button);
      return item;
    }));
  });

  async function choose(code) {
    complaint = code;
    answers = {};
    remember("complaint", code);
    remember("answers", answers);
    complaintsList.replaceChildren();
    await step();
  }

  async function step() {
    const next = await api("POST", data.triage_api + "/step", { complaint: complaint, answers: answers });
    outcomeBox.replaceChildren();
    if (next.question) {
      currentOptions = next.question.options;
      const title = document.createElement("p");
      title.textContent = next.question.text[lang];
      const list = document.createElement("ol");
      for (const option of next.question.options) {
        const item = document.createElement("li");
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = option.label[lang];
        button.addEventListener("click", () => answer(next.question.id, option.value));
        item.append(button);
        list.append(item);
      }
      questionBox.replaceChildren(title, list);
      questionBox.dataset.question = next.question.id;
      recordButton.disabled = true;
    } else {
      currentOptions = [];
      questionBox.replaceChildren();
      const o = next.outcome;
      const head = document.createElement("p");
      head.innerHTML = "<strong></strong> ";
      head.firstChild.textContent = o.priority + " · " + o.determinant;
      head.append(o.summary[lang]);
      const steps = document.createElement("ol");
      for (const script of o.instructions) {
        for (const s of script.steps) {
          const item = document.createElement("li");
          item.textContent = s[lang];
          steps.append(item);
        }
      }
      outcomeBox.replaceChildren(head, steps);
      recordButton.disabled = false;
    }
  }

  async function answer(questionId, value) {
    answers[questionId] = value;
    remember("answers", answers);
    await step();
  }

  recordButton.addEventListener("click", async () => {
    show("");
    try {
      const triaged = await api("POST", data.api + "/triage", { complaint: complaint, answers: answers });
      document.getElementById("status").textContent = triaged.status;
    } catch (error) {
      show(error.message);
    }
  });

  document.addEventListener("keydown", (event) => {
    const tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select") return;
    const n = parseInt(event.key, 10);
    if (n >= 1 && n <= currentOptions.length && questionBox.dataset.question) {
      event.preventDefault();
      answer(questionBox.dataset.question, currentOptions[n - 1].value);
    }
  });

  // --- who goes --------------------------------------------------------------------------
  document.getElementById("recommend").addEventListener("click", async () => {
    show("");
    const list = document.getElementById("recommendations");
    try {
      const found = await api("GET", data.api + "/recommendations");
      list.replaceChildren(...found.map((r) => {
        const item = document.createElement("li");
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = text.assign + " " + r.unit;
        button.addEventListener("click", async () => {
          try {
            await api("POST", data.api + "/assign", { unit: r.unit });
            item.classList.add("sent");
          } catch (error) {
            show(error.message);
          }
        });
        item.append(button, " " + (r.eta_seconds / 60).toFixed(1) + " " + text.minutes + " · " + r.reasons.join(", "));
        return item;
      }));
    } catch (error) {
      show(error.message);
    }
  });

  fill();
  if (complaint) step().catch((error) => show(error.message));
})();
