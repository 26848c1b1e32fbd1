"use strict";
// The catalogue's provider filter: as the person types a provider's name, the names that contain it are asked of
// the portal and put in the box's <datalist>, which the browser offers as the input's own suggestions (by keyboard
// and to screen readers alike). Without this script the box still filters by the name or part of it typed.
document.querySelectorAll("input[data-suggestions-url]").forEach(function (input) {
  var list = document.getElementById(input.getAttribute("list"));
  if (!list) return;
  var timer = null;
  var pending = null;
  var asked = "";

  function show(providers) {
    var options = providers.map(function (provider) {
      var option = document.createElement("option");
      option.value = provider.name;
      if (provider.short_name) option.label = provider.short_name;
      return option;
    });
    list.replaceChildren.apply(list, options);
  }

  function ask() {
    var text = input.value.trim();
    if (text.length < 2) { asked = ""; show([]); return; }
    if (text === asked) return;
    asked = text;
    if (pending) pending.abort();
    pending = new AbortController();
    var url = input.dataset.suggestionsUrl + "?q=" + encodeURIComponent(text);
    fetch(url, {credentials: "same-origin", signal: pending.signal})
      .then(function (response) { return response.ok ? response.json() : {providers: []}; })
      .then(function (data) { show(data.providers || []); })
      .catch(function () { /* aborted by a newer question, or offline: the box still works as typed */ });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(ask, 200);
  });
});
