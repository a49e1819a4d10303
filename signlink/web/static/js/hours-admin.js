// The opening-hours page: a clock of the line's time zone (so a supervisor sees what "09:00" means
// there), and focus on the "saved" notice after a change.

const root = document.getElementById("hours-admin");
const clock = document.getElementById("zone-clock");

function tick() {
  const zone = root.dataset.zone;
  try {
    const now = new Intl.DateTimeFormat(document.documentElement.lang, {
      timeZone: zone, weekday: "short", hour: "2-digit", minute: "2-digit",
    }).format(new Date());
    clock.textContent = `${now} (${zone})`;
  } catch {
    clock.textContent = zone;
  }
}

const saved = document.getElementById("saved");
if (saved) saved.focus();
tick();
setInterval(tick, 30_000);
