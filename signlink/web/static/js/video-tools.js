// The signer's video tools, the same on both sides (templates/_video_tools.html): enlarge, full
// screen, picture-in-picture (so the signer stays in view while the user finds a serial number in
// another tab), and hide or move the self view. The choices are remembered in this browser.
//
/**
 * API
 *
 *   import { setupVideoTools } from "./video-tools.js";
 *   setupVideoTools({ root, box, video, key: "customer" });
 *     // root: the element the layout attributes go on (data-enlarged, data-self, data-self-side)
 *     // box: the video's fixed box (goes full screen); video: the signer's <video> (PiP)
 *     // key: which page's choices these are (localStorage "signlink.video.<key>")
 */

const DEFAULTS = { enlarged: false, self: true, selfSide: "start" };

function load(key) {
  try {
    return { ...DEFAULTS, ...JSON.parse(localStorage.getItem(`signlink.video.${key}`) || "{}") };
  } catch {
    return { ...DEFAULTS };
  }
}

function save(key, prefs) {
  try {
    localStorage.setItem(`signlink.video.${key}`, JSON.stringify(prefs));
  } catch (err) {
    console.info("video layout not remembered:", err);
  }
}

export function setupVideoTools({ root, box, video, key }) {
  const $ = (id) => document.getElementById(id);
  const prefs = load(key);
  const apply = () => {
    root.dataset.enlarged = String(prefs.enlarged);
    root.dataset.self = prefs.self ? "shown" : "hidden";
    root.dataset.selfSide = prefs.selfSide;
    $("tool-enlarge").setAttribute("aria-pressed", String(prefs.enlarged));
    $("tool-self").setAttribute("aria-pressed", String(prefs.self));
    $("tool-move").disabled = !prefs.self;
  };
  const toggle = (name, value) => {
    prefs[name] = value;
    save(key, prefs);
    apply();
  };
  $("tool-enlarge").addEventListener("click", () => toggle("enlarged", !prefs.enlarged));
  $("tool-self").addEventListener("click", () => toggle("self", !prefs.self));
  $("tool-move").addEventListener("click", () => toggle("selfSide", prefs.selfSide === "start" ? "end" : "start"));

  const full = $("tool-fullscreen");
  if (!document.fullscreenEnabled) full.disabled = true;
  full.addEventListener("click", async () => {
    try {
      if (document.fullscreenElement) await document.exitFullscreen();
      else await box.requestFullscreen();
    } catch (err) {
      console.info("full screen refused:", err);
    }
  });

  const pip = $("tool-pip");
  if (!document.pictureInPictureEnabled) pip.disabled = true;
  pip.addEventListener("click", async () => {
    try {
      if (document.pictureInPictureElement) await document.exitPictureInPicture();
      else await video.requestPictureInPicture();
    } catch (err) {
      console.info("picture-in-picture refused:", err);
    }
  });
  video.addEventListener("enterpictureinpicture", () => pip.setAttribute("aria-pressed", "true"));
  video.addEventListener("leavepictureinpicture", () => pip.setAttribute("aria-pressed", "false"));
  apply();
}
