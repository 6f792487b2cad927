/* Offline draft of the result form (no inline script: the CSP allows only this site's files).
   Saves the form in localStorage on every input, restores it on load, and submits through fetch:
   when offline (navigator.onLine false, or the request fails) the draft is kept, the page says so,
   and the form is sent again when the browser is back online (the `online` event). */
(function () {
  "use strict";
  var form = document.getElementById("result-form");
  if (!form || !window.localStorage) { return; }
  var key = form.getAttribute("data-draft-key");
  var status = document.getElementById("draft-status");
  var OFFLINE = "草稿已保存在本机，联网后提交";
  var pending = false;

  function say(text) { if (status) { status.textContent = text; } }

  function snapshot() {
    var out = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name === "csrf_token" || el.type === "file" || el.type === "submit") { return; }
      if (el.type === "checkbox") {
        out[el.name] = out[el.name] || [];
        if (el.checked) { out[el.name].push(el.value); }
      } else {
        out[el.name] = el.value;
      }
    });
    return out;
  }

  function save() {
    try { localStorage.setItem(key, JSON.stringify(snapshot())); } catch (e) { /* storage full or denied */ }
  }

  function restore() {
    var text = localStorage.getItem(key);
    if (!text) { return; }
    var saved;
    try { saved = JSON.parse(text); } catch (e) { return; }
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || !(el.name in saved)) { return; }
      if (el.type === "checkbox") {
        el.checked = saved[el.name].indexOf(el.value) >= 0;
      } else if (el.type !== "file" && el.name !== "csrf_token") {
        el.value = saved[el.name];
      }
    });
    say("已恢复本机保存的草稿");
  }

  function send() {
    if (!navigator.onLine) { pending = true; save(); say(OFFLINE); return; }
    fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin" })
      .then(function (response) {
        pending = false;
        if (response.status === 422) { form.submit(); return; }  // the server shows each problem by its field
        if (response.ok) { localStorage.removeItem(key); window.location.assign(response.url); return; }
        say("提交失败（" + response.status + "），草稿已保存在本机");
      })
      .catch(function () { pending = true; save(); say(OFFLINE); });
  }

  restore();
  form.addEventListener("input", save);
  form.addEventListener("change", save);
  form.addEventListener("submit", function (event) { event.preventDefault(); save(); send(); });
  window.addEventListener("online", function () { if (pending) { send(); } });
  window.addEventListener("offline", function () { save(); say(OFFLINE); });
})();
