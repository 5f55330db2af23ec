// Reads an iCalendar file (argv[2]) with ical.js and prints, for each VEVENT, its UID
// and the UTC instant (Unix seconds) ical.js gives its DTSTART, one per line as JSON.
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

const comp = new ICAL.Component(ICAL.parse(readFileSync(process.argv[2], "utf8")));
for (const vtz of comp.getAllSubcomponents("vtimezone")) {
  ICAL.TimezoneService.register(new ICAL.Timezone(vtz));
}
const out = {};
for (const ev of comp.getAllSubcomponents("vevent")) {
  const start = ev.getFirstPropertyValue("dtstart");
  out[ev.getFirstPropertyValue("uid")] = start.toUnixTime();
}
process.stdout.write(JSON.stringify(out));
