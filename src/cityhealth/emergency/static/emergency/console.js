// The dispatch console: ward outlines drawn without online tiles, incidents and units on the
// map and in the tables, alerts — all redrawn from the server's live snapshots (SSE).
(function () {
  "use strict";
  const root = document.getElementById("console");
  if (!root || !window.L) return;
  const callUrl = (id) => root.dataset.callUrl.replace(/0\/$/, id + "/");
  const map = window.dispatchMap("map", { wards: root.dataset.wards, roads: root.dataset.roads });
  const layer = L.layerGroup().addTo(map);
  const colours = { P1: "#c62828", P2: "#ef6c00", P3: "#f9a825", P4: "#2e7d32", "": "#555" };

  function cell(text) {
    const td = document.createElement("td");
    td.textContent = text == null || text === "" ? "—" : text;
    return td;
  }

  function age(iso) {
    if (!iso) return "";
    const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    return Math.floor(seconds / 60) + ":" + String(seconds % 60).padStart(2, "0");
  }

  let current = null;
  function draw(snapshot) {
    current = snapshot;
    layer.clearLayers();
    const queue = document.querySelector("#queue tbody");
    queue.replaceChildren(...snapshot.incidents.map((i) => {
      const row = document.createElement("tr");
      row.className = "priority-" + (i.priority || "none");
      const link = document.createElement("a");
      link.href = callUrl(i.id);
      link.textContent = i.number;
      const first = document.createElement("td");
      first.append(link);
      if (i.duplicate_of) first.append(" (" + i.duplicate_of + "?)");
      row.append(first, cell(i.priority), cell(i.status), cell(age(i.received_at)), cell(i.place), cell(i.complaint));
      if (i.latitude != null) {
        L.circleMarker([i.latitude, i.longitude], { radius: 8, color: colours[i.priority || ""], fillOpacity: 0.8 })
          .bindTooltip(i.number + " " + (i.priority || "")).addTo(layer);
      }
      return row;
    }));
    const units = document.querySelector("#units tbody");
    units.replaceChildren(...snapshot.units.map((u) => {
      const row = document.createElement("tr");
      row.append(cell(u.call_sign), cell(u.kind), cell(u.status), cell(age(u.status_since)), cell(u.incident));
      if (u.latitude != null) {
        L.marker([u.latitude, u.longitude], { title: u.call_sign }).bindTooltip(u.call_sign + " · " + u.status).addTo(layer);
      }
      return row;
    }));
    const alerts = document.getElementById("alerts");
    alerts.replaceChildren(...snapshot.alerts.map((a) => {
      const item = document.createElement("li");
      item.textContent = a.code === "p1_unassigned"
        ? "P1 " + a.incident + " — " + age(a.since)
        : a.unit + " — GPS " + (a.since ? age(a.since) : "—");
      return item;
    }));
  }

  // Move-ups: suggested by the server after each assignment; the dispatcher orders or dismisses.
  const text = JSON.parse(document.getElementById("console-text").textContent);
  const csrf = document.querySelector("[name=csrfmiddlewaretoken]").value;
  async function decide(id, what) {
    await fetch("/api/emergency/move-ups/" + id + "/" + what, {
      method: "POST", headers: { "X-CSRFToken": csrf }, credentials: "same-origin",
    });
  }
  function drawMoveUps(moveUps) {
    const section = document.getElementById("move-ups");
    section.hidden = moveUps.length === 0;
    document.getElementById("move-up-list").replaceChildren(...moveUps.map((m) => {
      const item = document.createElement("li");
      const order = document.createElement("button");
      order.type = "button";
      order.textContent = text.order;
      order.addEventListener("click", () => decide(m.id, "order"));
      const dismiss = document.createElement("button");
      dismiss.type = "button";
      dismiss.textContent = text.dismiss;
      dismiss.addEventListener("click", () => decide(m.id, "dismiss"));
      item.append(
        m.call_sign + " → " + m.post_name + " (" + m.drive_minutes + " " + text.minutes + "; +" +
          m.gain_residents.toLocaleString() + " " + text.residents + ") ",
        order, " ", dismiss);
      return item;
    }));
  }

  const state = document.getElementById("live-state");
  const source = new EventSource(root.dataset.events);
  source.addEventListener("snapshot", (event) => {
    const snapshot = JSON.parse(event.data);
    draw(snapshot);
    drawMoveUps(snapshot.move_ups || []);
    state.textContent = "● " + new Date().toLocaleTimeString();
  });
  source.onerror = () => { state.textContent = "○"; };
  setInterval(() => { if (current) draw(current); }, 1000); // timers tick between snapshots
})();
