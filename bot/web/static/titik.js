// One aspiration's location on a small map (a circle marker: it shows without tiles too).
(function () {
  "use strict";
  var box = document.getElementById("titik");
  if (!box || !window.L) { return; }
  var lat = parseFloat(box.getAttribute("data-lintang"));
  var lon = parseFloat(box.getAttribute("data-bujur"));
  if (isNaN(lat) || isNaN(lon)) { return; }
  var map = L.map(box, { scrollWheelZoom: false }).setView([lat, lon], 15);
  var tiles = box.getAttribute("data-ubin");
  if (tiles) {
    L.tileLayer(tiles, { maxZoom: 18, attribution: "&copy; kontributor OpenStreetMap" }).addTo(map);
  }
  L.circleMarker([lat, lon], { radius: 9, color: "#ffffff", weight: 2, fillColor: "#d7301f", fillOpacity: 0.9 })
    .addTo(map);
}());
