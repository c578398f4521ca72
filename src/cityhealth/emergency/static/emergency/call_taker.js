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
  const draftFields = ["address", "ward", "latitude", "longitude", "walk_metres", "patients", "notes", "location_method"];

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

  // --- location: address search, map click, the handset's own position -------------------
  const placesList = document.getElementById("places");
  const placeHint = document.getElementById("place-hint");
  let places = [];
  let searchTimer = null;
  let marker = null;
  let circle = null;
  const map = window.L ? window.dispatchMap("call-map", data.map) : null;

  function hint(message) {
    placeHint.textContent = message || "";
    placeHint.hidden = !message;
  }

  function setField(name, value) {
    form.elements[name].value = value;
    remember(name, value);
  }

  // Puts the point in the form and on the map; `how` is address, map or handset.
  function place(lat, lon, how, accuracy) {
    setField("latitude", lat.toFixed(6));
    setField("longitude", lon.toFixed(6));
    setField("location_method", how);
    if (!map) return;
    if (marker) marker.setLatLng([lat, lon]); else marker = L.marker([lat, lon]).addTo(map);
    if (circle) { circle.remove(); circle = null; }
    if (accuracy) circle = L.circle([lat, lon], { radius: accuracy, weight: 1 }).addTo(map);
    map.setView([lat, lon], Math.max(map.getZoom(), 16));
  }

  function pick(p) {
    place(p.latitude, p.longitude, "address", p.precision_m > 50 ? p.precision_m : 0);
    if (p.ward) setField("ward", p.ward);
    placesList.replaceChildren();
    places = [];
    hint(p.alley ? text.alley : "");
    if (p.alley) form.elements.car_unreachable.focus();
  }

  async function searchPlaces() {
    searchTimer = null;
    const q = form.elements.address.value.trim();
    if (q.length < 2) { placesList.replaceChildren(); places = []; return; }
    try {
      places = await api("GET", data.places_api + "?q=" + encodeURIComponent(q));
    } catch (error) {
      show(error.message);
      return;
    }
    hint(places.length ? "" : text.no_place);
    placesList.replaceChildren(...places.map((p, i) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = p.label + (p.ward_name && p.ward_name !== p.label ? ", " + p.ward_name : "");
      button.addEventListener("click", () => pick(p));
      item.append(button, " " + text.within + " " + p.precision_m + " m");
      return item;
    }));
  }

  form.elements.address.addEventListener("input", () => {
    if (searchTimer) clearTimeout(searchTimer);
    searchTimer = setTimeout(searchPlaces, 250);
  });
  form.elements.address.addEventListener("keydown", async (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    if (searchTimer) { clearTimeout(searchTimer); await searchPlaces(); }
    if (places.length) pick(places[0]);
  });
  for (const name of ["latitude", "longitude"]) {
    form.elements[name].addEventListener("change", () => setField("location_method", "map"));
  }
  if (map) {
    map.on("click", (event) => place(event.latlng.lat, event.latlng.lng, "map", 0));
  }

  // The caller's phone may send its position (Advanced Mobile Location) a few seconds into
  // the call: asked every 5 s until the location is confirmed.
  const handsetBox = document.getElementById("handset");
  let handset = null;
  async function pollHandset() {
    if (document.getElementById("status").dataset.located === "yes") return;
    try {
      const found = await api("GET", data.api + "/handset-locations");
      if (found.length) {
        handset = found[0];
        const seconds = Math.max(0, Math.round((Date.now() - Date.parse(handset.positioned_at)) / 1000));
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = text.use_handset;
        button.addEventListener("click", useHandset);
        handsetBox.replaceChildren(
          text.handset + " (± " + handset.accuracy_m + " m, " + seconds + " s " + text.ago + ") ", button);
        handsetBox.hidden = false;
      }
    } catch (error) { /* the next poll tries again */ }
    setTimeout(pollHandset, 5000);
  }
  function useHandset() {
    if (handset) place(handset.latitude, handset.longitude, "handset", handset.accuracy_m);
  }
  document.addEventListener("keydown", (event) => {
    if (event.altKey && (event.key === "h" || event.key === "H")) { event.preventDefault(); useHandset(); }
  });

  document.getElementById("confirm-location").addEventListener("click", async () => {
    show("");
    const f = form.elements;
    try {
      const located = await api("POST", data.api + "/location", {
        latitude: parseFloat(f.latitude.value),
        longitude: parseFloat(f.longitude.value),
        method: f.location_method.value || "address",
        address: f.address.value,
        ward: f.ward.value,
        car_reachable: !f.car_unreachable.checked,
        walk_metres: parseInt(f.walk_metres.value || "0", 10),
        patients: parseInt(f.patients.value || "1", 10),
      });
      const status = document.getElementById("status");
      status.textContent = located.status;
      status.dataset.located = "yes";
      handsetBox.hidden = true;
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
  if (map && draft.latitude && draft.longitude) {
    const lat = parseFloat(draft.latitude);
    const lon = parseFloat(draft.longitude);
    if (isFinite(lat) && isFinite(lon)) { marker = L.marker([lat, lon]).addTo(map); map.setView([lat, lon], 16); }
  }
  pollHandset();
  if (complaint) step().catch((error) => show(error.message));
})();
