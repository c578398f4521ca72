// The 115 KPI page: response time by hour (Chart.js) and the coverage map, where each ward is
// coloured by the driving minutes from the quickest available unit (Leaflet, no online tiles).
(function () {
  "use strict";

  function hourChart() {
    const canvas = document.getElementById("kpi-hour-chart");
    const source = document.getElementById("kpi-hour-data");
    if (!canvas || !source || !window.Chart) return;
    const data = JSON.parse(source.textContent);
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          { label: data.mean_label, data: data.mean, backgroundColor: "#5b8def" },
          { label: data.p90_label, data: data.p90, backgroundColor: "#c62828" },
        ],
      },
      options: { maintainAspectRatio: false, animation: false, scales: { y: { beginAtZero: true } } },
    });
  }

  // Green within the first threshold, amber within the second, red beyond, grey unknown.
  function colour(minutes, limits) {
    if (minutes == null) return "#9e9e9e";
    if (minutes <= limits[0]) return "#2e7d32";
    if (minutes <= limits[1]) return "#f9a825";
    return "#c62828";
  }

  // The outlines carry the ward code unpadded ("70"); the ward table pads it to five digits.
  function wardCode(feature) {
    return String(feature.properties["Mã hành chính"] || "").trim().padStart(5, "0");
  }

  function coverageMap() {
    const root = document.getElementById("kpi-coverage");
    if (!root || !window.L) return;
    const limits = root.dataset.minutes.split(",").map(Number);
    const map = L.map("kpi-map", { zoomSnap: 0.25 }).setView([21.03, 105.75], 10);
    map.attributionControl.addAttribution("© OpenStreetMap contributors (ODbL) · Smart Air NGSI-LD Dataset (ODbL)");
    const get = (url) => fetch(url, { credentials: "same-origin" }).then((r) => {
      if (!r.ok) throw new Error(String(r.status));
      return r.json();
    });
    Promise.all([get(root.dataset.wards), get(root.dataset.coverage)])
      .then(([outlines, coverage]) => {
        for (const [minutes, share] of Object.entries(coverage.shares)) {
          const cell = root.querySelector('[data-share="' + minutes + '"]');
          if (cell) cell.textContent = (100 * share).toFixed(1) + "%";
        }
        document.getElementById("kpi-coverage-units").textContent = "(" + coverage.units + " " + root.dataset.units + ")";
        L.geoJSON(outlines, {
          style: (feature) => {
            const ward = coverage.wards[wardCode(feature)];
            return {
              color: "#555", weight: 0.6, fillOpacity: 0.55,
              fillColor: colour(ward ? ward.minutes : null, limits),
            };
          },
          onEachFeature: (feature, layer) => {
            const ward = coverage.wards[wardCode(feature)];
            if (!ward) return;
            const time = ward.minutes == null ? root.dataset.noUnit : ward.minutes + " " + root.dataset.min;
            layer.bindTooltip(ward.name + ": " + time);
          },
        }).addTo(map);
      })
      .catch(() => {
        root.querySelectorAll("[data-share]").forEach((cell) => { cell.textContent = "—"; });
        document.getElementById("kpi-coverage-units").textContent = root.dataset.error;
      });
  }

  hourChart();
  coverageMap();
})();
