// A first visit's device, asked for as soon as the stall page runs (boot.js) instead of once the
// app's modules are in and IndexedDB has said there is none: on a slow link that saves the pull
// a round trip. identity.js takes the answer, once, if it still needs a device.
//
// "Souk has an identity here" is remembered in localStorage (read without opening IndexedDB),
// so a returning visitor never asks again; if that note was cleared but IndexedDB was not, one
// early device goes unused, which costs the server a row and nothing else.
const NOTED = "souk:identity";

/** @type {Promise<any>|null} */
let offered = null;

/** Whether this browser is known to hold an identity already. */
export function hasIdentity() {
  try {
    return globalThis.localStorage?.getItem(NOTED) === "yes";
  } catch {
    return true; // storage refused: do not guess, let identity.js ask when it must
  }
}

/** Remember that an identity is saved (identity.js, on saving or finding one). */
export function noteIdentity() {
  try {
    globalThis.localStorage?.setItem(NOTED, "yes");
  } catch {
    // storage refused: the worst case is one early device that goes unused
  }
}

/** The early request for a device (its answer, or its failure), kept for identity.js. @param {Promise<any>} answer */
export function offerDevice(answer) {
  answer.catch(() => {}); // a failure is seen, if at all, by the one who takes it
  offered = answer;
}

/** The early answer, at most once: null if there was none or it failed (then ask as usual). */
export async function takeDevice() {
  const answer = offered;
  offered = null;
  return answer ? answer.catch(() => null) : null;
}
