// A visitor who scanned a stall's QR code: start on the event before the rest of the app has
// downloaded. The server-rendered stall page names the event and the stall. On a first visit the
// device is asked for at once (first-visit.js); the pull needs only sync.js and what it imports,
// about half of the app's modules, which index.html asks for first (the others at low priority),
// so on a slow link and HTTP/1.1 (six connections) the pull starts a round trip or two sooner.
// app.js joins this pull rather than starting another (sync.js `pull.join`).
import { request } from "./kit/http.js";
import { hasIdentity, offerDevice } from "./first-visit.js";

const stall = document.querySelector("main section.stall[data-event][data-stall]");
if (stall && navigator.onLine) {
  if (!hasIdentity()) offerDevice(request("POST", "/api/devices"));
  import("./sync.js")
    .then(({ pull }) => pull(stall.dataset.event, { stall: stall.dataset.stall }))
    .catch(() => {}); // app.js reports the outcome of the pull it joins
}
