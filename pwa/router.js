// Routes: /s/{code} (what a QR code opens) and hash routes inside /app/. Same-origin links to
// either are followed without reloading the page.
const ROUTES = [
  [/^\/?$/, "home"],
  [/^\/s\/([^/]+)$/, "stall", ["code"]],
  [/^\/i\/([^/]+)$/, "item", ["id"]],
  [/^\/favourites$/, "favourites"],
  [/^\/conversations$/, "conversations"],
  [/^\/conversations\/([^/]+)$/, "thread", ["id"]],
  [/^\/chat\/([^/]+)$/, "chat", ["code"]],
  [/^\/resume$/, "resume"],
  [/^\/vendor$/, "vendor"],
  [/^\/vendor\/item\/new$/, "item-new"],
  [/^\/vendor\/item\/([^/]+)$/, "item-edit", ["id"]],
  [/^\/vendor\/sell\/([^/]+)$/, "sell", ["id"]],
  [/^\/vendor\/stall$/, "stall-edit"],
  [/^\/vendor\/replies$/, "replies"],
];
const STALL_PATH = /^\/s\/([^/]+)\/?$/;

export function currentRoute() {
  const hash = location.hash.startsWith("#/") ? location.hash.slice(1) : "";
  let path = hash;
  if (!hash) path = STALL_PATH.test(location.pathname) ? location.pathname.replace(/\/$/, "") : "/";
  const [rawPath, rawQuery = ""] = path.split("?");
  for (const [pattern, name, keys = []] of ROUTES) {
    const match = rawPath.match(pattern);
    if (match) {
      const params = Object.fromEntries(keys.map((key, i) => [key, decodeURIComponent(match[i + 1])]));
      return { name, params, query: new URLSearchParams(rawQuery), path };
    }
  }
  return { name: "home", params: {}, query: new URLSearchParams(), path: "/" };
}

// Links the app can show without a page load.
export function isAppUrl(url) {
  return url.origin === location.origin && (url.pathname === "/app/" || STALL_PATH.test(url.pathname));
}

export function startRouter(render) {
  document.addEventListener("click", (event) => {
    const link = event.target.closest?.("a[href]");
    if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    if (link.hasAttribute("download") || (link.target && link.target !== "_self")) return;
    const url = new URL(link.href, location.href);
    if (link.getAttribute("href") === "#main") {
      event.preventDefault();
      document.getElementById("main")?.focus();
      return;
    }
    if (!isAppUrl(url)) return;
    event.preventDefault();
    navigate(url.href);
  });
  // A fragment change fires popstate and then hashchange: draw once, or the view is mounted twice
  // and whatever the user had started typing into the first one is gone. Browsers that fire only
  // hashchange still get their draw.
  let drawn = location.href;
  addEventListener("popstate", () => {
    drawn = location.href;
    render();
  });
  addEventListener("hashchange", () => {
    if (location.href !== drawn) render();
    drawn = location.href;
  });
  return (url) => navigate(url);

  function navigate(href) {
    if (href === location.href) return render();
    history.pushState(null, "", href);
    drawn = location.href;
    render({ moved: true });
  }
}
