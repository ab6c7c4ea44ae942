// Inside Telegram the Mini App is opened with its launch data in the address's fragment (#tgWebAppData=...):
// that initData is sent to /auth/webapp, which checks Telegram's signature and starts the session. Outside
// Telegram there is no fragment and the Login Widget button is used instead. Telegram's own telegram-web-app.js is
// not needed for this, so no script from outside the dashboard runs in the Mini App.
(function () {
  "use strict";
  var hash = window.location.hash.replace(/^#/, "");
  if (!hash) { return; }
  var params = new URLSearchParams(hash);
  var initData = params.get("tgWebAppData");
  if (!initData) { return; }
  var box = document.getElementById("masuk");
  var note = box ? box.querySelector(".mini-app") : null;
  if (note) { note.hidden = false; }
  var csrf = document.querySelector('meta[name="csrf"]').getAttribute("content");
  var body = new URLSearchParams();
  body.set("initData", initData);
  body.set("lanjut", box ? box.getAttribute("data-lanjut") : "/");
  body.set("_xsrf", csrf);
  fetch("/auth/webapp", { method: "POST", body: body, credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (answer) { window.location.replace(answer.lanjut || "/"); })
    .catch(function () { if (note) { note.textContent = "Gagal masuk lewat Telegram. Tutup lalu buka lagi dasbor."; } });
}());
