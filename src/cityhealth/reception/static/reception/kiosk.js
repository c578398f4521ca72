// Kiosk, phone ticket and board behaviour; the pages work without it (plain forms).
(function () {
  "use strict";
  // The moment the resident first touched the kiosk: the flow time is measured from it.
  var started = document.getElementById("started");
  var scan = document.getElementById("scan");
  if (started && scan) {
    var mark = function () { if (!started.value) { started.value = String(Date.now()); } };
    document.addEventListener("keydown", mark, true);
    scan.addEventListener("input", mark);
    if (scan.value) { mark(); }  // typed before this script ran
    // Keep the field focused so a scanner's keystrokes and Enter always land in it.
    document.addEventListener("click", function (event) {
      if (event.target.tagName !== "BUTTON" && event.target.tagName !== "A") { scan.focus(); }
    });
  }
  // A double tap sends a form once.
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("[data-once]").forEach(function (button) {
        setTimeout(function () { button.disabled = true; }, 0);
      });
    });
  });
  // The ticket screen returns to the first screen by itself.
  var ticket = document.getElementById("kiosk-ticket");
  if (ticket && ticket.dataset.restart) {
    setTimeout(function () { window.location.href = ticket.dataset.restart; }, 30000);
  }
  // The phone's ticket refreshes itself.
  var live = document.getElementById("live-ticket");
  if (live && live.dataset.refresh) {
    setTimeout(function () { window.location.reload(); }, Number(live.dataset.refresh) * 1000);
  }
  // The board follows the server's events.
  var board = document.getElementById("board");
  if (board && board.dataset.events && window.EventSource) {
    var seen = {};
    var body = board.querySelector("tbody");
    var source = new EventSource(board.dataset.events);
    source.addEventListener("board", function (event) {
      var rows = JSON.parse(event.data);
      body.textContent = "";
      if (!rows.length) {
        var none = document.createElement("tr");
        none.className = "empty";
        none.innerHTML = "<td colspan='4'></td>";
        none.firstChild.textContent = board.dataset.empty;
        body.appendChild(none);
      }
      rows.forEach(function (row) {
        var tr = document.createElement("tr");
        tr.className = row.state + (row.priority ? " priority" : "");
        if (row.state === "called" && seen[row.ticket] !== row.announced_at) { tr.classList.add("announce"); }
        seen[row.ticket] = row.announced_at;
        [row.ticket, row.name, row.room, row.floor === null ? "" : String(row.floor)].forEach(function (text, n) {
          var td = document.createElement("td");
          if (n === 0) { td.className = "number"; }
          td.textContent = text;
          tr.appendChild(td);
        });
        body.appendChild(tr);
      });
    });
  }
  window.kioskReady = true;
})();
