// The crew's route to the patient, drawn as a line (no online map tiles): from the unit's
// last position to the incident, with the estimated minutes and kilometres.
(function () {
  "use strict";
  const box = document.getElementById("route-map");
  if (!box || !window.L) return;
  fetch(box.dataset.route, { credentials: "same-origin" })
    .then((r) => r.json())
    .then((route) => {
      if (!route.points.length) { box.hidden = true; return; }
      const map = L.map(box, { attributionControl: true });
      map.attributionControl.addAttribution("© OpenStreetMap contributors (ODbL)");
      const line = L.polyline(route.points, { color: "#c62828", weight: 5 }).addTo(map);
      L.circleMarker(route.points[0], { radius: 7, color: "#1565c0" }).addTo(map);
      L.circleMarker(route.points[route.points.length - 1], { radius: 8, color: "#c62828" }).addTo(map);
      map.fitBounds(line.getBounds(), { padding: [20, 20] });
      document.getElementById("route-text").textContent =
        Math.round(route.seconds / 60) + " min · " + (route.metres / 1000).toFixed(1) + " km";
    });
})();
