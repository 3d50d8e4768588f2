// Applied before the page paints (a classic script in <head>, not a module), so a
// reader who chose dark or projector mode never sees a flash of the other one.
// ?theme=dark|light and ?big=1|0 in the URL override the stored choice for this page
// (handy for a teacher's projector link); they are not stored.
(function () {
  var root = document.documentElement;
  var theme = null, big = null;
  try {
    theme = localStorage.getItem("learnws.theme");
    big = localStorage.getItem("learnws.big");
  } catch (e) { /* storage disabled: defaults apply */ }
  try {
    var q = new URLSearchParams(location.search);
    if (q.has("theme")) theme = q.get("theme");
    if (q.has("big")) big = q.get("big");
  } catch (e) { /* old browser */ }
  if (theme === "light" || theme === "dark") root.setAttribute("data-theme", theme);
  if (big === "1") root.setAttribute("data-big", "1");
})();
