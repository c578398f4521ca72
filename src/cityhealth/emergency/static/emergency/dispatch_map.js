// One base map for every dispatch screen: ward outlines and the streets of the loaded
// extracts, drawn from the project's own files (no online tiles), with the attribution.
window.dispatchMap = function (element, urls, options) {
  "use strict";
  const map = L.map(element, Object.assign({ zoomSnap: 0.25 }, options || {})).setView([21.03, 105.85], 11);
  map.attributionControl.addAttribution("© OpenStreetMap contributors (ODbL) · Smart Air NGSI-LD Dataset (ODbL)");
  const load = (url) => fetch(url, { credentials: "same-origin" }).then((r) => r.json());
  load(urls.wards).then((geo) => L.geoJSON(geo, {
    style: { color: "#7a8797", weight: 1, fillOpacity: 0.04 },
  }).addTo(map));
  if (urls.roads) {
    load(urls.roads).then((geo) => {
      L.geoJSON(geo, {
        filter: (f) => f.properties.main,
        style: { color: "#c9a227", weight: 2 },
        interactive: false,
      }).addTo(map);
      // Side streets and alleys only when close enough to tell them apart.
      const minor = L.geoJSON(geo, {
        filter: (f) => !f.properties.main,
        style: { color: "#9e9e9e", weight: 1 },
        interactive: false,
      });
      const toggle = () => { if (map.getZoom() >= 14) minor.addTo(map); else minor.remove(); };
      map.on("zoomend", toggle);
      toggle();
    });
  }
  return map;
};
