// The map of problems and potential: every village with a place, drawn as circles (no tile or icon image needed,
// so the markers show even when the tiles cannot load). Data from /peta/data.json; names go in as text, never HTML.
(function () {
  "use strict";
  var box = document.getElementById("peta");
  var summary = document.getElementById("peta-ringkas");
  if (!box || !window.L) { return; }
  var map = L.map(box, { zoomControl: true }).setView([-7.85, 113.3], 10);
  var tiles = box.getAttribute("data-ubin");
  if (tiles) {
    L.tileLayer(tiles, {
      maxZoom: 18,
      attribution: "&copy; kontributor OpenStreetMap"
    }).addTo(map);
  }
  function popup(v) {
    var div = document.createElement("div");
    var title = document.createElement("a");
    title.href = "/desa/" + encodeURIComponent(v[0]);
    title.textContent = "Desa " + v[1];
    var strong = document.createElement("b");
    strong.appendChild(title);
    div.appendChild(strong);
    div.appendChild(document.createElement("br"));
    div.appendChild(document.createTextNode("Kec. " + v[2]));
    div.appendChild(document.createElement("br"));
    var open = document.createElement("a");
    open.href = "/aspirasi?status=terbuka&desa=" + encodeURIComponent(v[0]);
    open.textContent = v[6] + " aspirasi terbuka";
    div.appendChild(open);
    div.appendChild(document.createTextNode(" · " + v[7] + " potensi"));
    return div;
  }
  fetch(box.getAttribute("data-sumber"), { credentials: "same-origin" })
    .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
    .then(function (data) {
      var points = [];
      // a regency's few hundred villages as SVG; a province's thousands on one canvas, which stays fast
      var renderer = data.desa.length > 1500 ? L.canvas() : L.svg();
      data.desa.forEach(function (v) {
        var color = v[6] > 0 ? "#d7301f" : (v[7] > 0 ? "#2e9d4a" : "#8593a3");
        var radius = v[6] > 0 ? Math.min(18, 5 + Math.sqrt(v[6]) * 2) : 5;
        var m = L.circleMarker([v[3], v[4]], { radius: radius, color: "#ffffff", weight: 1, fillColor: color,
                                               fillOpacity: 0.85, renderer: renderer });
        m.bindPopup(function () { return popup(v); });
        m.addTo(map);
        points.push([v[3], v[4]]);
      });
      var focus = new URLSearchParams(window.location.search).get("desa");
      var chosen = focus ? data.desa.filter(function (v) { return v[0] === focus; })[0] : null;
      if (chosen) {
        map.setView([chosen[3], chosen[4]], 14);
        L.popup().setLatLng([chosen[3], chosen[4]]).setContent(popup(chosen)).openOn(map);
      } else if (points.length) {
        map.fitBounds(points, { padding: [20, 20], maxZoom: 13 });
      }
      summary.textContent = data.desa.length + " desa di peta dari " + data.jumlah_desa + " desa" +
        (data.tanpa_lokasi ? "; " + data.tanpa_lokasi + " desa dengan aspirasi atau potensi belum punya lokasi" : "") +
        ".";
      box.setAttribute("data-siap", String(data.desa.length));
    })
    .catch(function () {
      summary.textContent = "Data peta gagal dimuat. Muat ulang halaman.";
    });
}());
