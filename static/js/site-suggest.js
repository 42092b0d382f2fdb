/* Site suggestions as staff type into a site-code field: <input data-site-suggest="URL of /map/search.json" list="ID">
   with an empty <datalist id="ID">. The browser's own list shows the suggestions (keyboard and screen readers included);
   the value put into the field is the site code. Codes, Chinese and English names, pinyin and initials all match. */
(function () {
  "use strict";
  document.querySelectorAll("input[data-site-suggest]").forEach(function (input) {
    var list = document.getElementById(input.getAttribute("list"));
    var url = input.getAttribute("data-site-suggest");
    var pending = null, asked = 0;
    input.addEventListener("input", function () {
      clearTimeout(pending);
      var q = input.value.trim();
      if (!q || /^[A-Za-z]{2,4}-[0-9]{4,6}$/.test(q)) { return; }
      pending = setTimeout(function () {
        var ticket = ++asked;
        fetch(url + "?q=" + encodeURIComponent(q), { credentials: "same-origin" })
          .then(function (r) { return r.json(); })
          .then(function (data) {
            if (ticket !== asked) { return; }
            list.innerHTML = "";
            (data.features || []).forEach(function (f) {
              var option = document.createElement("option");
              option.value = f.properties.code;
              option.label = f.properties.name + (f.properties.name_en ? " · " + f.properties.name_en : "");
              option.textContent = option.label;
              list.appendChild(option);
            });
          })
          .catch(function () {});
      }, 200);
    });
  });
})();
