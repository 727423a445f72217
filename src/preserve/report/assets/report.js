/* The report's only script, inlined into the page and allowed by its Content-Security-Policy
   through its sha256. It shows the expand and collapse buttons, opens everything for
   printing, and opens the collapsed sections around the target of a link into the page. */
(function () {
  function all(open) {
    document.querySelectorAll("details").forEach(function (d) { d.open = open; });
  }
  function reveal() {
    var node = location.hash && document.getElementById(location.hash.slice(1));
    for (; node; node = node.parentElement) {
      if (node.tagName === "DETAILS") { node.open = true; }
    }
  }
  document.getElementById("controls").hidden = false;
  document.getElementById("expand-all").addEventListener("click", function () { all(true); });
  document.getElementById("collapse-all").addEventListener("click", function () { all(false); });
  window.addEventListener("beforeprint", function () { all(true); });
  window.addEventListener("hashchange", reveal);
  reveal();
})();
